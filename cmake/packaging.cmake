# What `cmake --install` puts where, and CPack's .deb. Included from CMakeLists.txt after the
# devinit target. The release tarball with both architectures is cmake/release.sh's job.
#
#   bin/devinit                                   the binary
#   share/man/man1/devinit.1.gz                   from doc/devinit.1.scd (scdoc)
#   share/doc/devinit/{LICENSE,copyright,README.md,CHANGELOG.md,changelog.gz}
#   share/lintian/overrides/devinit               (static builds: statically-linked-binary)
#   share/bash-completion/completions/devinit     completions/devinit.bash
#   share/zsh/vendor-completions/_devinit         completions/_devinit

include(GNUInstallDirs)

install(TARGETS devinit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man page has one source, doc/devinit.1.scd; scdoc (Debian: scdoc) renders it.
find_program(SCDOC scdoc)
if(SCDOC)
  set(_devinit_man ${CMAKE_BINARY_DIR}/doc/devinit.1)
  add_custom_command(OUTPUT ${_devinit_man} ${_devinit_man}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/doc
    COMMAND sh -c "'${SCDOC}' < '${CMAKE_SOURCE_DIR}/doc/devinit.1.scd' > '${_devinit_man}'"
    # -n: no name or time stamp in the header, so the same page gives the same bytes.
    COMMAND sh -c "gzip -9n < '${_devinit_man}' > '${_devinit_man}.gz'"
    DEPENDS ${CMAKE_SOURCE_DIR}/doc/devinit.1.scd
    COMMENT "scdoc: devinit.1" VERBATIM)
  add_custom_target(devinit_man ALL DEPENDS ${_devinit_man} ${_devinit_man}.gz)
  install(FILES ${_devinit_man}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "scdoc not found: no man page is built or installed (apt-get install scdoc)")
endif()

# Debian wants the license as doc/<package>/copyright; others look for LICENSE.
install(FILES LICENSE README.md CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/doc/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/doc
  COMMAND sh -c "gzip -9n < '${CMAKE_SOURCE_DIR}/CHANGELOG.md' > '${CMAKE_BINARY_DIR}/doc/changelog.gz'"
  DEPENDS ${CMAKE_SOURCE_DIR}/CHANGELOG.md VERBATIM)
add_custom_target(devinit_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/doc/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/doc/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(DEVINIT_STATIC)
  # Static on purpose (it runs in any image, glibc or musl): tell lintian so.
  install(FILES cmake/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
    RENAME devinit)
endif()
install(FILES completions/devinit.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME devinit)
install(FILES completions/_devinit DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# --- CPack: a .deb of this build (cpack -G DEB in the build directory) -----------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME devinit)
set(CPACK_PACKAGE_VENDOR "the devinit authors")
set(CPACK_PACKAGE_CONTACT "the devinit authors <devinit@example.org>" CACHE STRING
  "The .deb's Maintainer")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "init for Node.js and Prisma dev containers that brings them to a correct state")
set(CPACK_PACKAGE_DESCRIPTION "devinit is the entrypoint (PID 1) of a Node.js and Prisma dev container.
Before the app starts it installs the packages when node_modules is stale,
runs prisma generate when the client is stale, waits until PostgreSQL
accepts a login, and checks or deploys the migrations. Then it runs the app
as an init: it reaps children, forwards signals, stops within a deadline,
and resyncs on a schema or lockfile change.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${DEVINIT_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(NOT DEVINIT_STATIC)
  # A dynamic build depends on the libraries it was linked with.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/packages)
include(CPack)
