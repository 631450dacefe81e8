package io.tandem.media.relay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes eBPF instructions (linux/bpf.h, Documentation/bpf/standardization/instruction-set.rst) so a program can be
 * kept as readable Java and loaded with no compiler: each method appends one instruction (a map reference two);
 * jumps name a label placed later or earlier, resolved by {@link #assemble()}. Registers: r0 return value, r1-r5
 * arguments (clobbered by calls), r6-r9 kept across calls, r10 the read-only frame pointer.
 */
final class BpfAssembler
{
    static final int R0 = 0;
    static final int R1 = 1;
    static final int R2 = 2;
    static final int R3 = 3;
    static final int R6 = 6;
    static final int R7 = 7;
    static final int R8 = 8;
    static final int R9 = 9;
    static final int R10 = 10;

    /** Sizes of a memory access. */
    static final int W = 0x00;
    static final int H = 0x08;
    static final int B = 0x10;
    static final int DW = 0x18;

    private static final int LD = 0x00;
    private static final int LDX = 0x01;
    private static final int ST = 0x02;
    private static final int STX = 0x03;
    private static final int ALU64 = 0x07;
    private static final int JMP = 0x05;
    private static final int MEM = 0x60;
    private static final int IMM = 0x00;
    private static final int K = 0x00;
    private static final int X = 0x08;

    static final int ADD = 0x00;
    static final int SUB = 0x10;
    static final int AND = 0x50;
    static final int RSH = 0x70;
    static final int XOR = 0xa0;
    static final int MOV = 0xb0;

    static final int JEQ = 0x10;
    static final int JGT = 0x20;
    static final int JNE = 0x50;
    private static final int CALL = 0x80;
    private static final int EXIT = 0x90;
    private static final int PSEUDO_MAP_FD = 1;

    private final List<Long> instructions = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final Map<Integer, String> jumps = new HashMap<>();

    private static long encode(final int opcode, final int dst, final int src, final int offset, final int imm)
    {
        return (opcode & 0xffL) | ((long)(dst & 0xf) << 8) | ((long)(src & 0xf) << 12) | ((offset & 0xffffL) << 16) |
            ((imm & 0xffffffffL) << 32);
    }

    private BpfAssembler add(final int opcode, final int dst, final int src, final int offset, final int imm)
    {
        instructions.add(encode(opcode, dst, src, offset, imm));
        return this;
    }

    /** {@code dst = imm} (64-bit, the immediate sign-extended). */
    BpfAssembler movImm(final int dst, final int imm)
    {
        return add(ALU64 | MOV | K, dst, 0, 0, imm);
    }

    /** {@code dst = src}. */
    BpfAssembler mov(final int dst, final int src)
    {
        return add(ALU64 | MOV | X, dst, src, 0, 0);
    }

    /** {@code dst op= imm} (64-bit). */
    BpfAssembler aluImm(final int op, final int dst, final int imm)
    {
        return add(ALU64 | op | K, dst, 0, 0, imm);
    }

    /** {@code dst op= src} (64-bit). */
    BpfAssembler alu(final int op, final int dst, final int src)
    {
        return add(ALU64 | op | X, dst, src, 0, 0);
    }

    /** {@code dst = *(size *)(src + offset)}. */
    BpfAssembler load(final int size, final int dst, final int src, final int offset)
    {
        return add(LDX | MEM | size, dst, src, offset, 0);
    }

    /** {@code *(size *)(dst + offset) = src}. */
    BpfAssembler store(final int size, final int dst, final int offset, final int src)
    {
        return add(STX | MEM | size, dst, src, offset, 0);
    }

    /** {@code *(size *)(dst + offset) = imm}. */
    BpfAssembler storeImm(final int size, final int dst, final int offset, final int imm)
    {
        return add(ST | MEM | size, dst, 0, offset, imm);
    }

    /** {@code dst = the map of this file descriptor} (a two-slot instruction). */
    BpfAssembler loadMap(final int dst, final int mapFd)
    {
        add(LD | IMM | DW, dst, PSEUDO_MAP_FD, 0, mapFd);
        return add(0, 0, 0, 0, 0);
    }

    /** {@code if dst op imm goto label}. */
    BpfAssembler jumpImm(final int op, final int dst, final int imm, final String label)
    {
        jumps.put(instructions.size(), label);
        return add(JMP | op | K, dst, 0, 0, imm);
    }

    /** {@code if dst op src goto label}. */
    BpfAssembler jump(final int op, final int dst, final int src, final String label)
    {
        jumps.put(instructions.size(), label);
        return add(JMP | op | X, dst, src, 0, 0);
    }

    /** Call a kernel helper by its number (bpf_map_lookup_elem is 1). */
    BpfAssembler call(final int helper)
    {
        return add(JMP | CALL, 0, 0, 0, helper);
    }

    BpfAssembler exit()
    {
        return add(JMP | EXIT, 0, 0, 0, 0);
    }

    /** The next instruction is where jumps to {@code name} land. */
    BpfAssembler label(final String name)
    {
        if (labels.putIfAbsent(name, instructions.size()) != null)
        {
            throw new IllegalArgumentException("label " + name + " placed twice");
        }
        return this;
    }

    /** The program, every jump resolved. @throws IllegalStateException for a label never placed */
    long[] assemble()
    {
        final long[] program = new long[instructions.size()];
        for (int i = 0; i < program.length; i++)
        {
            program[i] = instructions.get(i);
        }
        for (final Map.Entry<Integer, String> jump : jumps.entrySet())
        {
            final Integer target = labels.get(jump.getValue());
            if (target == null)
            {
                throw new IllegalStateException("jump to label " + jump.getValue() + ", never placed");
            }
            final int at = jump.getKey();
            final int offset = target - (at + 1);
            program[at] = (program[at] & ~(0xffffL << 16)) | ((offset & 0xffffL) << 16);
        }
        return program;
    }
}
