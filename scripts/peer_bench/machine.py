"""One line about the machine a comparison ran on, and the versions of what ran."""

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version


def cpu_model():
    """The CPU's name with its family/model numbers (which say more than a name like 'AMD EPYC')."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        return platform.processor() or "unknown CPU"
    name = fields.get("model name", "unknown CPU")
    return f"{name} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"


def cpu_features():
    """The vector extensions that decide which kernels are fast."""
    try:
        with open("/proc/cpuinfo") as file:
            flags = next((line.split(":", 1)[1].split() for line in file if line.startswith("flags")), [])
    except OSError:
        return "?"
    wanted = ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile"]
    return " ".join(flag for flag in wanted if flag in flags) or "no AVX2"


def git_commit(root):
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def package_versions(names):
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    return ", ".join(found)


def describe(cores):
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    return (f"{cpu_model()}, {cpu_features()}; {cores} of {os.cpu_count()} cores; "
            f"OPENBLAS_CORETYPE {'=' + coretype if coretype else 'unset'}; "
            f"Linux {platform.release()}; load average {load_average():.1f} at the start")


def load_average():
    return os.getloadavg()[0]
