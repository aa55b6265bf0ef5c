# Cross-building for linux/arm64 on Debian with its aarch64 cross toolchain and the arm64
# multiarch -dev packages (.ci/install-deps arm64). No sysroot: Debian's multiarch layout puts
# the arm64 libraries in /usr/lib/aarch64-linux-gnu beside the host's, and the cross gcc
# searches there. Used by the static-arm64 preset.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config answers for the target only: the arm64 .pc files, and libpq's from
# build/deps/arm64 (libpq-dev is not multi-arch, so .ci/install-deps unpacks it there).
get_filename_component(_devinit_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(ENV{PKG_CONFIG_LIBDIR}
  "${_devinit_root}/build/deps/arm64:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Programs are the host's; libraries and headers the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Tests run the result under qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
