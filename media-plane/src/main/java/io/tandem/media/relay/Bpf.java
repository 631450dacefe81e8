package io.tandem.media.relay;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code bpf(2)} system call through the Foreign Function and Memory API, with nothing but the kernel: create a
 * map, read, write and delete its entries, load a program (the verifier's log comes back in the error), and attach
 * an XDP program to an interface with a BPF link (closing the link's descriptor detaches it). The layouts are those
 * of {@code union bpf_attr} (linux/bpf.h), which are the same on every 64-bit architecture.
 */
public final class Bpf
{
    /** A hash map whose every entry has a value per CPU: the program updates its CPU's copy without atomics. */
    static final int MAP_TYPE_PERCPU_HASH = 5;
    static final int PROG_TYPE_XDP = 6;
    static final int ATTACH_TYPE_XDP = 37;
    /** XDP in the driver (native mode: veth, real NICs); the generic mode runs after a socket buffer exists. */
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;

    private static final int SYS_BPF = sysBpf();
    private static final int MAP_CREATE = 0;
    private static final int MAP_LOOKUP_ELEM = 1;
    private static final int MAP_UPDATE_ELEM = 2;
    private static final int MAP_DELETE_ELEM = 3;
    private static final int PROG_LOAD = 5;
    private static final int PROG_TEST_RUN = 10;
    private static final int LINK_CREATE = 28;
    /** Larger than every command's part of union bpf_attr used here; the kernel wants the rest zero. */
    private static final int ATTR_SIZE = 128;
    private static final int ENOENT = 2;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL;
    private static final MethodHandle IF_NAMETOINDEX;

    static
    {
        final Linker linker = Linker.nativeLinker();
        SYSCALL = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
        IF_NAMETOINDEX = linker.downcallHandle(linker.defaultLookup().find("if_nametoindex").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }

    private Bpf()
    {
    }

    private static int sysBpf()
    {
        return switch (System.getProperty("os.arch"))
        {
            case "amd64", "x86_64" -> 321;
            case "aarch64" -> 280;
            default -> -1;
        };
    }

    /** A bpf() call failed: the command, the errno and, for a program load, the verifier's log. */
    public static final class BpfException extends IOException
    {
        private final int errno;

        BpfException(final String message, final int errno)
        {
            super(message);
            this.errno = errno;
        }

        public int errno()
        {
            return errno;
        }
    }

    private static long call(final int command, final MemorySegment attr, final MemorySegment state) throws BpfException
    {
        if (SYS_BPF < 0)
        {
            throw new BpfException("bpf() is not known on " + System.getProperty("os.arch"), 38);
        }
        try
        {
            return (long)SYSCALL.invokeExact(state, (long)SYS_BPF, (long)command, attr, (long)ATTR_SIZE);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("bpf() downcall", ex);
        }
    }

    private static int errno(final MemorySegment state)
    {
        return (int)ERRNO.get(state, 0L);
    }

    private static long checked(final String what, final int command, final MemorySegment attr, final Arena arena)
        throws BpfException
    {
        final MemorySegment state = arena.allocate(CAPTURE);
        final long result = call(command, attr, state);
        if (result < 0)
        {
            final int errno = errno(state);
            throw new BpfException(what + " failed: errno " + errno + " (" + describe(errno) + ")", errno);
        }
        return result;
    }

    static String describe(final int errno)
    {
        return switch (errno)
        {
            case 1 -> "EPERM: needs root or CAP_BPF + CAP_NET_ADMIN";
            case 2 -> "ENOENT";
            case 7 -> "E2BIG";
            case 13 -> "EACCES: the verifier refused the program";
            case 16 -> "EBUSY: another XDP program is attached";
            case 19 -> "ENODEV: no such interface";
            case 22 -> "EINVAL";
            case 95 -> "EOPNOTSUPP: the driver has no native XDP";
            default -> "errno " + errno;
        };
    }

    /**
     * A hash map of a {@code type} (for {@link #MAP_TYPE_PERCPU_HASH} a lookup or update carries
     * {@link #possibleCpus()} values, each {@code valueSize} rounded up to 8 bytes). @return its file descriptor
     */
    static int createHashMap(final int type, final String name, final int keySize, final int valueSize,
        final int maxEntries) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, type);
            attr.set(ValueLayout.JAVA_INT, 4, keySize);
            attr.set(ValueLayout.JAVA_INT, 8, valueSize);
            attr.set(ValueLayout.JAVA_INT, 12, maxEntries);
            name(attr, 28, name);
            return (int)checked("BPF_MAP_CREATE", MAP_CREATE, attr, arena);
        }
    }

    /**
     * The CPUs a per-CPU map holds a value for: the kernel's possible CPUs ({@code /sys/devices/system/cpu/possible},
     * such as {@code 0-1} or {@code 0-3,6}), which may be more than are online.
     */
    static int possibleCpus()
    {
        try
        {
            return countCpus(Files.readString(Path.of("/sys/devices/system/cpu/possible")));
        }
        catch (final IOException ex)
        {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** The highest CPU number of a kernel CPU list ({@code 0-3,6}), plus one: per-CPU values are indexed by it. */
    static int countCpus(final String list)
    {
        int highest = -1;
        for (final String range : list.strip().split(","))
        {
            final int dash = range.indexOf('-');
            highest = Math.max(highest, Integer.parseInt(dash < 0 ? range : range.substring(dash + 1)));
        }
        return highest + 1;
    }

    /** Write an entry (create or replace). */
    static void update(final int map, final MemorySegment key, final MemorySegment value) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = elementAttr(arena, map, key, value);
            checked("BPF_MAP_UPDATE_ELEM", MAP_UPDATE_ELEM, attr, arena);
        }
    }

    /** Read an entry into {@code value}. @return false when the map has no such key */
    static boolean lookup(final int map, final MemorySegment key, final MemorySegment value) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = elementAttr(arena, map, key, value);
            final MemorySegment state = arena.allocate(CAPTURE);
            if (call(MAP_LOOKUP_ELEM, attr, state) < 0)
            {
                final int errno = errno(state);
                if (errno == ENOENT)
                {
                    return false;
                }
                throw new BpfException("BPF_MAP_LOOKUP_ELEM failed: " + describe(errno), errno);
            }
            return true;
        }
    }

    /** Delete an entry. @return false when the map had no such key */
    static boolean delete(final int map, final MemorySegment key) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = elementAttr(arena, map, key, MemorySegment.NULL);
            final MemorySegment state = arena.allocate(CAPTURE);
            if (call(MAP_DELETE_ELEM, attr, state) < 0)
            {
                final int errno = errno(state);
                if (errno == ENOENT)
                {
                    return false;
                }
                throw new BpfException("BPF_MAP_DELETE_ELEM failed: " + describe(errno), errno);
            }
            return true;
        }
    }

    private static MemorySegment elementAttr(final Arena arena, final int map, final MemorySegment key,
        final MemorySegment value)
    {
        final MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
        attr.set(ValueLayout.JAVA_INT, 0, map);
        attr.set(ValueLayout.JAVA_LONG, 8, key.address());
        attr.set(ValueLayout.JAVA_LONG, 16, value.address());
        return attr;
    }

    /**
     * Load an XDP program (GPL: the helpers it calls want it). @return its file descriptor
     * @throws BpfException with the verifier's log when it refuses the program
     */
    static int loadXdp(final String name, final long[] instructions) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment insns = arena.allocate(8L * instructions.length, 8);
            for (int i = 0; i < instructions.length; i++)
            {
                insns.setAtIndex(ValueLayout.JAVA_LONG, i, instructions[i]);
            }
            final MemorySegment license = arena.allocateFrom("GPL");
            final int logSize = 1 << 16;
            final MemorySegment log = arena.allocate(logSize);
            final MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, PROG_TYPE_XDP);
            attr.set(ValueLayout.JAVA_INT, 4, instructions.length);
            attr.set(ValueLayout.JAVA_LONG, 8, insns.address());
            attr.set(ValueLayout.JAVA_LONG, 16, license.address());
            attr.set(ValueLayout.JAVA_INT, 24, 1); // log level: the log only fills when the verifier refuses
            attr.set(ValueLayout.JAVA_INT, 28, logSize);
            attr.set(ValueLayout.JAVA_LONG, 32, log.address());
            name(attr, 48, name);
            attr.set(ValueLayout.JAVA_INT, 68, ATTACH_TYPE_XDP); // expected_attach_type
            final MemorySegment state = arena.allocate(CAPTURE);
            final long fd = call(PROG_LOAD, attr, state);
            if (fd < 0)
            {
                final int errno = errno(state);
                final String text = log.getString(0, StandardCharsets.UTF_8).strip();
                throw new BpfException("BPF_PROG_LOAD failed: " + describe(errno) +
                    (text.isEmpty() ? "" : "\n" + lastLines(text, 30)), errno);
            }
            return (int)fd;
        }
    }

    private static String lastLines(final String text, final int count)
    {
        final String[] lines = text.split("\n");
        final int from = Math.max(0, lines.length - count);
        return String.join("\n", java.util.Arrays.copyOfRange(lines, from, lines.length));
    }

    /** What one test run of a program on a frame gave: its action and the frame as the program left it. */
    record TestRun(int action, byte[] frame)
    {
    }

    /** Run a loaded XDP program once on {@code frame} in the kernel, as a packet would (BPF_PROG_TEST_RUN). */
    static TestRun testRun(final int program, final byte[] frame) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment in = arena.allocate(Math.max(1, frame.length));
            MemorySegment.copy(frame, 0, in, ValueLayout.JAVA_BYTE, 0, frame.length);
            final int room = frame.length + 256;
            final MemorySegment out = arena.allocate(room);
            final MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, program);
            attr.set(ValueLayout.JAVA_INT, 8, frame.length);
            attr.set(ValueLayout.JAVA_INT, 12, room);
            attr.set(ValueLayout.JAVA_LONG, 16, in.address());
            attr.set(ValueLayout.JAVA_LONG, 24, out.address());
            attr.set(ValueLayout.JAVA_INT, 32, 1);
            checked("BPF_PROG_TEST_RUN", PROG_TEST_RUN, attr, arena);
            final int action = attr.get(ValueLayout.JAVA_INT, 4);
            final int length = attr.get(ValueLayout.JAVA_INT, 12);
            return new TestRun(action, out.asSlice(0, Math.min(length, room)).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** Attach an XDP program to an interface. @return the link's file descriptor: closing it detaches the program */
    static int attachXdp(final int program, final int ifindex, final int xdpFlags) throws BpfException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, program);
            attr.set(ValueLayout.JAVA_INT, 4, ifindex);
            attr.set(ValueLayout.JAVA_INT, 8, ATTACH_TYPE_XDP);
            attr.set(ValueLayout.JAVA_INT, 12, xdpFlags);
            return (int)checked("BPF_LINK_CREATE (XDP)", LINK_CREATE, attr, arena);
        }
    }

    /** The index of a network interface in this process's namespace, or 0 when there is none of that name. */
    public static int ifindex(final String name)
    {
        try (Arena arena = Arena.ofConfined())
        {
            return (int)IF_NAMETOINDEX.invokeExact(arena.allocateFrom(name));
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("if_nametoindex downcall", ex);
        }
    }

    /** Close a map's, program's or link's descriptor (a link's detaches its program). */
    static void close(final int fd)
    {
        LinuxNet.close(fd);
    }

    private static void name(final MemorySegment attr, final long offset, final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(15, bytes.length); i++)
        {
            attr.set(ValueLayout.JAVA_BYTE, offset + i, bytes[i]);
        }
    }
}
