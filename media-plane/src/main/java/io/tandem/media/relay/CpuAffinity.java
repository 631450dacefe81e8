package io.tandem.media.relay;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Pins the calling thread to one CPU with Linux {@code sched_setaffinity(2)}, called through the Foreign Function
 * and Memory API (no JNI, no JNA).
 */
public final class CpuAffinity
{
    private static final int CPU_SET_BYTES = 128; // glibc's cpu_set_t: 1024 CPUs
    private static final MethodHandle SCHED_SETAFFINITY;
    private static final MethodHandle GETTID;
    private static final VarHandle ERRNO;
    private static final long ERRNO_BASE_OFFSET = 0;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();

    static
    {
        final Linker linker = Linker.nativeLinker();
        SCHED_SETAFFINITY = linker.downcallHandle(
            linker.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            Linker.Option.captureCallState("errno"));
        GETTID = linker.downcallHandle(
            linker.defaultLookup().find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    private CpuAffinity()
    {
    }

    /**
     * Pin the calling thread to {@code cpu}.
     * @throws IllegalStateException with the reason if the kernel refuses (no such CPU, not allowed by the cgroup).
     */
    public static void pinCurrentThread(final int cpu)
    {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8)
        {
            throw new IllegalArgumentException("no such CPU: " + cpu);
        }
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment mask = arena.allocate(CPU_SET_BYTES);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte)(1 << (cpu % 8)));
            final MemorySegment state = arena.allocate(CAPTURE);
            final int result = (int)SCHED_SETAFFINITY.invokeExact(state, 0, (long)CPU_SET_BYTES, mask);
            if (result != 0)
            {
                final int errno = (int)ERRNO.get(state, ERRNO_BASE_OFFSET);
                throw new IllegalStateException("cannot pin thread to CPU " + cpu + ": sched_setaffinity errno " + errno +
                    (errno == 22 ? " (EINVAL: CPU not online or not allowed)" : ""));
            }
        }
        catch (final IllegalStateException | IllegalArgumentException ex)
        {
            throw ex;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("sched_setaffinity failed", ex);
        }
    }

    /** The kernel's id of the calling thread, as in /proc/self/task. */
    public static int currentThreadId()
    {
        try
        {
            return (int)GETTID.invokeExact();
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("gettid failed", ex);
        }
    }
}
