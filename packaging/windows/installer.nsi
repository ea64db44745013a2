; The Windows installer for Mail Settings (NSIS), built by scripts/windows:
;   makensis -DVERSION=… -DBUILD_DIR=… -DROOT=… -DOUT_FILE=… installer.nsi
; Per user, no administrator rights: into %LOCALAPPDATA%\Programs\Mail Settings, a
; Start-menu shortcut, an entry in "Apps & features", and an uninstaller. Settings
; (%APPDATA%\mailsettings) and the passwords in the Credential Manager belong to the
; user and stay when the program is removed.
Unicode true
; A 64-bit installer for a 64-bit program (and Wine here runs only 64-bit programs).
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!include "MUI2.nsh"

!define APP_NAME "Mail Settings"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\MailSettings"

Name "${APP_NAME}"
OutFile "${OUT_FILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_NAME}"
InstallDirRegKey HKCU "Software\MailSettings" "InstallDir"
BrandingText "${APP_NAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP_NAME}"
VIAddVersionKey "FileDescription" "${APP_NAME} installer"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "Mail Settings team"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

!define MUI_ICON "${ROOT}\assets\mailsettings.ico"
!define MUI_UNICON "${ROOT}\assets\mailsettings.ico"
!define MUI_FINISHPAGE_RUN "$INSTDIR\mailsettings.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open ${APP_NAME}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${ROOT}\assets\THIRD-PARTY-LICENSES.txt"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "Mail Settings" main
  SectionIn RO
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  File "${BUILD_DIR}\mailsettings.exe"
  File "${BUILD_DIR}\mailsettings-cli.exe"
  File "/oname=README.md" "${ROOT}\README.md"
  File "/oname=THIRD-PARTY-LICENSES.txt" "${ROOT}\assets\THIRD-PARTY-LICENSES.txt"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\mailsettings.exe" "" "$INSTDIR\mailsettings.exe" 0
  WriteRegStr HKCU "Software\MailSettings" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "Mail Settings team"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\mailsettings.exe"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  Delete "$INSTDIR\mailsettings.exe"
  Delete "$INSTDIR\mailsettings-cli.exe"
  Delete "$INSTDIR\README.md"
  Delete "$INSTDIR\THIRD-PARTY-LICENSES.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "Software\MailSettings"
SectionEnd
