package io.tandem.bench;

import org.HdrHistogram.Histogram;

/**
 * What one run measured.
 * @param relayCpuSeconds CPU time the relay process used while measured, or -1 if not known
 * @param lagMs           how far behind its schedule the paced generator ended (0 for the closed loop): above
 *                        a few milliseconds the generator, not the relay, set the rate actually offered
 * @param maxGapNs        the longest time between two packets arriving on one stream while measured: a relay
 *                        that stalls shows here even when few packets wait behind the stall
 */
record LoadResult(long sent, long received, double seconds, Histogram latency, double relayCpuSeconds, double lagMs,
    long maxGapNs)
{
    /** The paced generator kept to its schedule: it ended less than 1% of the run behind. */
    boolean keptPace()
    {
        return lagMs < seconds * 10;
    }

    double lossPercent()
    {
        return sent == 0 ? 0 : 100.0 * Math.max(0, sent - received) / sent;
    }

    double packetsPerSecond()
    {
        return received / seconds;
    }
}
