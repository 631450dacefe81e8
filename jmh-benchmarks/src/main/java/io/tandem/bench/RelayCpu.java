package io.tandem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of another process (user + system), from /proc/PID/stat, in clock ticks. */
record RelayCpu(long pid)
{
    private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux

    static RelayCpu of(final long pid)
    {
        return new RelayCpu(pid);
    }

    long ticks()
    {
        if (pid <= 0)
        {
            return 0;
        }
        try
        {
            final String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15)
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }

    double seconds(final long ticks)
    {
        return pid <= 0 ? -1 : ticks / TICKS_PER_SECOND;
    }
}
