package io.tandem.media.stats;

import java.io.File;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.status.CountersReader;

/**
 * {@code tandem-stat}: prints a running Tandem's counters from its memory-mapped counters file, from another
 * process, without disturbing it (as AeronStat does for Aeron).
 */
public final class TandemStat
{
    static final String USAGE = """
        Usage: bin/tandem-stat [--counters FILE] [--watch SECONDS]

        Prints the counters of a running Tandem: packets and bytes relayed, drops by reason, calls, ports.
          --counters FILE   the counters file Tandem was started with [/dev/shm/tandem/counters.dat]
          --watch SECONDS   print again every SECONDS until interrupted [print once]
        """;

    private TandemStat()
    {
    }

    /** Print every counter as {@code label: value}, one per line. */
    public static void print(final CountersReader reader, final PrintStream out)
    {
        reader.forEach((counterId, typeId, keyBuffer, label) ->
            out.printf("%-34s %,d%n", label + ":", reader.getCounterValue(counterId)));
    }

    public static void main(final String[] args) throws InterruptedException
    {
        File file = new File("/dev/shm/tandem/counters.dat");
        long watchSeconds = 0;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--help", "-h" ->
                {
                    System.out.print(USAGE);
                    return;
                }
                case "--counters" -> file = new File(value(args, ++i));
                case "--watch" -> watchSeconds = Long.parseLong(value(args, ++i));
                default ->
                {
                    System.err.println("tandem-stat: unknown option " + args[i]);
                    System.err.print(USAGE);
                    System.exit(2);
                }
            }
        }
        if (!file.isFile())
        {
            System.err.println("tandem-stat: no counters file " + file + ": is Tandem running with --counters " + file + "?");
            System.exit(1);
        }
        final CountersReader reader = MediaCounters.open(file);
        do
        {
            if (watchSeconds > 0)
            {
                System.out.printf("%n%tT%n", System.currentTimeMillis());
            }
            print(reader, System.out);
            if (watchSeconds > 0)
            {
                TimeUnit.SECONDS.sleep(watchSeconds);
            }
        }
        while (watchSeconds > 0);
    }

    private static String value(final String[] args, final int i)
    {
        if (i >= args.length)
        {
            System.err.println("tandem-stat: " + args[i - 1] + " needs a value");
            System.exit(2);
        }
        return args[i];
    }
}
