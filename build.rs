//! Build facts for the About box (the git commit), and on Windows the icon
//! embedded in the executable.

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MAILSETTINGS_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");

    // The target's OS, not the build machine's: scripts/windows cross-builds from Linux
    // (winresource then runs mingw's x86_64-w64-mingw32-windres).
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "windows") {
        let mut resource = winresource::WindowsResource::new();
        resource.set_icon("assets/mailsettings.ico");
        resource.set("ProductName", "Mail Settings");
        resource.set("FileDescription", "Mail Settings");
        if let Err(err) = resource.compile() {
            println!("cargo:warning=the Windows icon was not embedded: {err}");
        }
    }
}
