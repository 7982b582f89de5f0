"""What ptxas and nvdisasm say about a compiled kernel, for scripts/ptx-check.

- `resources(ptxas_output)`: per kernel, registers, stack frame, spill stores/loads, shared memory
  (from `ptxas -v`).
- `hot_loops(nvdisasm_output)`: per kernel, the loop holding the most FFMAs and what share of its
  instructions they are (from `nvdisasm -c`).
- `resident_warps(...)` and `launchable(...)`: sm_90 occupancy arithmetic.
"""

import re

# sm_90 per streaming multiprocessor (CUDA occupancy rules): 64K 32-bit registers, allocated per warp
# in units of 256; at most 64 resident warps and 32 resident blocks; 228 KiB of shared memory, of
# which every block also takes 1 KiB for the system.
SM_REGISTERS = 65536
REGISTER_UNIT = 256
SM_WARPS = 64
SM_BLOCKS = 32
SM_SHARED = 228 * 1024
BLOCK_SHARED_RESERVE = 1024
MAX_BLOCK_THREADS = 1024


def resources(text):
    """{kernel: {"registers", "stack", "spill_stores", "spill_loads", "shared"}} from `ptxas -v`."""
    kernels, current = {}, None
    for line in text.splitlines():
        entry = re.search(r"Compiling entry function '(\w+)'", line)
        if entry:
            current = kernels.setdefault(entry.group(1), {
                "registers": 0, "stack": 0, "spill_stores": 0, "spill_loads": 0, "shared": 0})
            continue
        if current is None:
            continue
        frame = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if frame:
            current["stack"], current["spill_stores"], current["spill_loads"] = map(int, frame.groups())
        used = re.search(r"Used (\d+) registers", line)
        if used:
            current["registers"] = int(used.group(1))
            shared = re.search(r"(\d+) bytes smem", line)
            current["shared"] = int(shared.group(1)) if shared else 0
    return kernels


def diagnostics(text):
    """ptxas's error and warning lines."""
    return [l.strip() for l in text.splitlines() if re.search(r"\b(error|warning|fatal)\b", l, re.I)]


def _functions(text):
    """{kernel: [(address, opcode, branch_target_label)], labels {label: address}} per .text section."""
    functions, name, labels, pending = {}, None, {}, []
    for line in text.splitlines():
        section = re.match(r"^\.text\.(\w+):", line)
        if section:
            name = section.group(1)
            functions[name] = ([], {})
            pending = []
            continue
        if name is None:
            continue
        label = re.match(r"^(\.L\w+):", line)
        if label:
            pending.append(label.group(1))
            continue
        instruction = re.match(r"^\s+/\*([0-9a-f]+)\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)(.*);", line)
        if not instruction:
            continue
        address = int(instruction.group(1), 16)
        instructions, labels = functions[name]
        for label_name in pending:
            labels[label_name] = address
        pending = []
        target = re.search(r"`\((\.L\w+)\)", instruction.group(3)) if instruction.group(2).startswith("BRA") else None
        instructions.append((address, instruction.group(2), target.group(1) if target else None))
    return functions


def _loops(instructions, labels):
    """Loops as (first address, last address): one per backward branch target, to its last branch."""
    ends = {}
    for address, _, target in instructions:
        if target in labels and labels[target] <= address:
            start = labels[target]
            ends[start] = max(ends.get(start, address), address)
    return sorted(ends.items())


def hot_loops(text):
    """{kernel: (ffma, instructions, share)} for the loop with the most FFMAs of its own (nested
    loops' instructions belong to them), NOPs not counted; kernels without such a loop are absent."""
    result = {}
    for name, (instructions, labels) in _functions(text).items():
        loops = _loops(instructions, labels)
        best = None
        for start, end in loops:
            inner = [(s, e) for s, e in loops if start <= s and e <= end and (s, e) != (start, end)]
            own = [op for address, op, _ in instructions
                   if start <= address <= end and op != "NOP" and not any(s <= address <= e for s, e in inner)]
            ffma = sum(1 for op in own if op.split(".")[0] == "FFMA")
            if ffma and (best is None or ffma > best[0]):
                best = (ffma, len(own), ffma / len(own))
        if best:
            result[name] = best
    return result


def _warp_registers(registers):
    return (max(registers, 1) * 32 + REGISTER_UNIT - 1) // REGISTER_UNIT * REGISTER_UNIT


def launchable(registers, threads):
    """Whether one block of `threads` work-items fits an SM's registers and thread limit."""
    warps = (threads + 31) // 32
    return threads <= MAX_BLOCK_THREADS and _warp_registers(registers) * warps <= SM_REGISTERS


def resident_warps(registers, shared, threads):
    """Warps resident on one SM when it is filled with blocks of `threads` work-items."""
    warps = (threads + 31) // 32
    by_registers = SM_REGISTERS // (_warp_registers(registers) * warps)
    by_shared = SM_SHARED // (shared + BLOCK_SHARED_RESERVE)
    blocks = min(SM_BLOCKS, SM_WARPS // warps, by_registers, by_shared)
    return blocks * warps
