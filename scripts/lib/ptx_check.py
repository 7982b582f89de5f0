"""scripts/ptx-check's body: compile the OpenCL backend's programs for NVIDIA sm_90 and judge them.

Two modes:
  plan mode  `--plan FILE --sources DIR`: FILE holds the JSON lines `gpt kernels --profile P` prints
             (one build per line: program, configuration, build options, the kernels it launches with
             their work-group sizes); DIR the program sources it wrote. Each build goes through
             clang (OpenCL C 1.2 -> PTX, math builtins routed to libdevice) and ptxas -arch=sm_90 -v,
             then nvdisasm for the FMA share of each kernel's hottest loop.
  PTX mode   `--ptx FILE...`: PTX that NVIDIA's driver produced (CL_PROGRAM_BINARIES), through
             ptxas and nvdisasm only, so its numbers can be set beside ours.

Exit status 1 when any GPU kernel fails a rule: a compile error, a spill or a stack frame, a
work-group that cannot launch, more than 48 KiB of local memory, an FMA share below the one the plan
asks for, or a kernel the plan and the compiled program disagree about.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import ptx_sass

LOCAL_MEMORY_LIMIT = 48 * 1024   # NVIDIA's CL_DEVICE_LOCAL_MEM_SIZE for one work-group


def run(command):
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.returncode, done.stdout


def with_required_sizes(ptx, source, kernels):
    """NVIDIA's compiler bounds a kernel's registers by its reqd_work_group_size; clang drops the
    attribute on the way to PTX, so state it again as .reqntid (the plan knows the size)."""
    fixed = set(re.findall(r"reqd_work_group_size\s*\([^;{]*?\)\s*\)\s*\)\s*void\s+(\w+)", source))
    for kernel in kernels:
        if kernel["name"] in fixed:
            ptx = re.sub(r"(\.entry\s+" + kernel["name"] + r"\s*\([^)]*\))",
                         r"\1\n.reqntid " + str(kernel["workGroupSize"]), ptx, count=1)
    return ptx


def ptxas_and_nvdisasm(tools, ptx_path):
    """(resources, hot loops, diagnostics, ok) for one PTX file."""
    cubin = ptx_path[:-4] + ".cubin"
    status, text = run([tools.ptxas, "-arch=" + tools.sm, "-v", ptx_path, "-o", cubin])
    if status != 0:
        return {}, {}, ptx_sass.diagnostics(text) or text.splitlines()[-3:], False
    _, sass = run([tools.nvdisasm, "-c", cubin])
    return ptx_sass.resources(text), ptx_sass.hot_loops(sass), ptx_sass.diagnostics(text), True


def compile_build(tools, build, sources, workdir, index):
    """Compiles one plan line; returns (build, resources, hot loops, messages, ok)."""
    source_path = os.path.join(sources, build["program"] + ".cl")
    ptx_path = os.path.join(workdir, "%03d-%s.ptx" % (index, build["program"]))
    options = build["options"].split()
    status, text = run([tools.clang, "-x", "cl", "-target", "nvptx64-nvidia-nvcl",
                        "-Xclang", "-target-cpu", "-Xclang", tools.sm, "-O3",
                        "-Xclang", "-finclude-default-header", "-include", tools.shim,
                        "-Xclang", "-mlink-builtin-bitcode", "-Xclang", tools.libdevice,
                        "-Xclang", "-mlink-builtin-bitcode", "-Xclang", tools.libclc,
                        "-Wno-linker-warnings"] + options + [source_path, "-S", "-o", ptx_path])
    messages = list(dict.fromkeys(l for l in text.splitlines() if re.search(r"(error|warning):", l)))[:5]
    if status != 0:
        return build, {}, {}, messages or text.splitlines()[-3:], False
    with open(source_path) as file:
        source = file.read()
    with open(ptx_path) as file:
        ptx = with_required_sizes(file.read(), source, build["kernels"])
    with open(ptx_path, "w") as file:
        file.write(ptx)
    resources, loops, more, ok = ptxas_and_nvdisasm(tools, ptx_path)
    return build, resources, loops, messages + more, ok


def ptx_file_build(tools, path, workdir, index):
    """A driver PTX file as a pseudo build: its kernels' .reqntid (if any) are their sizes."""
    with open(path, "rb") as file:
        ptx = file.read().replace(b"\0", b"").decode("utf-8", "replace")
    if ".entry" not in ptx:
        return {"program": os.path.basename(path), "configuration": "", "kernels": []}, {}, {}, ["no .entry: not PTX"], False
    kernels = []
    for entry in re.finditer(r"\.entry\s+(\w+)\s*\([^)]*\)\s*([^{]*)\{", ptx):
        size = re.search(r"\.reqntid\s+(\d+)(?:\s*,\s*(\d+))?(?:\s*,\s*(\d+))?", entry.group(2))
        threads = int(size.group(1)) * int(size.group(2) or 1) * int(size.group(3) or 1) if size else 0
        kernels.append({"name": entry.group(1), "workGroupSize": threads})
    ptx_path = os.path.join(workdir, "%03d-driver.ptx" % index)
    with open(ptx_path, "w") as file:
        file.write(ptx)
    # A newer driver may write a PTX ISA version this ptxas does not know yet; the instructions our
    # kernels use are the same, so retry as the newest version this ptxas takes.
    status, text = run([tools.ptxas, "-arch=" + tools.sm, "-v", ptx_path, "-o", os.devnull])
    unsupported = re.search(r"Unsupported \.version ([0-9.]+); current version is '([0-9.]+)'", text)
    messages = []
    if status != 0 and unsupported:
        with open(ptx_path, "w") as file:
            file.write(re.sub(r"^\.version\s+[0-9.]+", ".version " + unsupported.group(2), ptx, flags=re.M))
        messages.append("note: PTX .version %s lowered to %s for this ptxas" % unsupported.groups())
    resources, loops, more, ok = ptxas_and_nvdisasm(tools, ptx_path)
    build = {"program": os.path.basename(path), "configuration": "driver PTX", "gpu": True, "kernels": kernels}
    return build, resources, loops, messages + more, ok


def judge(build, name, kernel, resources, loop):
    """(row notes, failure lines) for one kernel of one build."""
    notes, failures = [], []
    where = "%s [%s] %s" % (build["program"], build["configuration"], name)
    spills = resources["spill_stores"] + resources["spill_loads"]
    threads = kernel.get("workGroupSize", 0)
    if not build.get("gpu", True):
        notes.append("CPU-only: not judged")
        return notes, failures
    if spills:
        failures.append("%s: spills %d/%d bytes" % (where, resources["spill_stores"], resources["spill_loads"]))
    if resources["stack"]:
        failures.append("%s: %d-byte stack frame (a private array in local memory)" % (where, resources["stack"]))
    if threads and not ptx_sass.launchable(resources["registers"], threads):
        failures.append("%s: %d registers x %d work-items cannot launch" % (where, resources["registers"], threads))
    if resources["shared"] > LOCAL_MEMORY_LIMIT:
        failures.append("%s: %d bytes of local memory (limit %d)" % (where, resources["shared"], LOCAL_MEMORY_LIMIT))
    wanted = kernel.get("minimumFMAShare")
    if wanted is not None and (loop is None or loop[2] < wanted):
        failures.append("%s: FMA share of the hottest loop %s, wanted >= %d%%"
                        % (where, "n/a" if loop is None else "%.1f%%" % (100 * loop[2]), round(100 * wanted)))
    return notes + ["FAIL"] * bool(failures), failures


def report(results, plan_mode):
    """Prints the table; returns the failure lines."""
    failures, warnings = [], []
    launched = {}
    for build, *_ in results:
        launched.setdefault(build["program"], set()).update(k["name"] for k in build["kernels"])
    header = "%-18s %-30s %-26s %5s %4s %5s %11s %6s %5s %7s  %s" % (
        "program", "configuration", "kernel", "wg", "regs", "stack", "spill st/ld", "smem", "warps", "fma", "notes")
    print(header)
    print("-" * len(header))
    for build, resources, loops, messages, ok in results:
        label = "%s [%s]" % (build["program"], build["configuration"])
        for message in messages:
            (failures if not ok or "error" in message else warnings).append("%s: %s" % (label, message))
        if not ok:
            failures.append(label + ": compile failed")
            print("%-18s %-30s %s" % (build["program"], build["configuration"][:30], "-- COMPILE ERROR --"))
            continue
        wanted = {k["name"]: k for k in build["kernels"]}
        for name in sorted(resources):
            if plan_mode and name not in launched[build["program"]]:
                failures.append("%s: kernel %s is compiled but no build of the plan launches it" % (label, name))
            if plan_mode and name not in wanted:
                continue
            kernel = wanted.get(name, {"name": name, "workGroupSize": 0})
            r, loop = resources[name], loops.get(name)
            notes, failed = judge(build, name, kernel, r, loop)
            failures += failed
            threads = kernel.get("workGroupSize", 0)
            warps = ptx_sass.resident_warps(r["registers"], r["shared"], threads) if threads else None
            print("%-18s %-30s %-26s %5s %4d %5d %11s %6d %5s %7s  %s" % (
                build["program"], build["configuration"][:30], name[:26], threads or "-", r["registers"], r["stack"],
                "%d/%d" % (r["spill_stores"], r["spill_loads"]), r["shared"], warps if warps is not None else "-",
                "%.0f%%" % (100 * loop[2]) if loop else "-", ", ".join(notes)))
        for name in sorted(set(wanted) - set(resources)):
            failures.append("%s: the plan launches %s but the program has no such kernel" % (label, name))
    for line in sorted(set(warnings)):
        print("warning:", line)
    for line in failures:
        print("FAIL:", line)
    return failures


def main():
    parser = argparse.ArgumentParser(prog="ptx-check")
    for tool in ("clang", "libclc", "libdevice", "ptxas", "nvdisasm", "shim"):
        parser.add_argument("--" + tool, default="")
    parser.add_argument("--sm", default="sm_90")
    parser.add_argument("--plan")
    parser.add_argument("--sources")
    parser.add_argument("--keep", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ptx", nargs="*")
    tools = parser.parse_args()
    started = time.time()
    workdir = tools.keep or tempfile.mkdtemp(prefix="ptx-check.")
    os.makedirs(workdir, exist_ok=True)
    if tools.ptx is not None:
        results = [ptx_file_build(tools, path, workdir, i) for i, path in enumerate(tools.ptx)]
    else:
        with open(tools.plan) as file:
            plan = [json.loads(line) for line in file if line.strip()]
        with concurrent.futures.ThreadPoolExecutor(max(1, tools.jobs)) as pool:
            results = list(pool.map(lambda item: compile_build(tools, item[1], tools.sources, workdir, item[0]),
                                    enumerate(plan)))
    failures = report(results, tools.ptx is None)
    if not tools.keep:
        subprocess.run(["rm", "-rf", workdir])
    print("ptx-check: %s, %d builds, %d failure(s), %.0f s" % (tools.sm, len(results), len(failures), time.time() - started))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
