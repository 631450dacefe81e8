package io.tandem.media.stats;

import java.io.File;
import java.nio.MappedByteBuffer;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The media plane's counters in a memory-mapped file, so {@code tandem-stat} can read them from another
 * process while Tandem runs. Layout: an 8-byte header (int metadata length, int values length), then
 * Agrona's metadata buffer, then its values buffer.
 */
public final class MediaCounters implements AutoCloseable
{
    public static final int MAX_COUNTERS = 64;
    private static final int HEADER = 64;
    private static final int META_LENGTH = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
    private static final int VALUES_LENGTH = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;

    private final MappedByteBuffer mapped;
    private final CountersManager manager;

    public final AtomicCounter rxPackets;
    public final AtomicCounter rxBytes;
    public final AtomicCounter txPackets;
    public final AtomicCounter txBytes;
    public final AtomicCounter rtcpPackets;
    public final AtomicCounter dropNoDestination;
    public final AtomicCounter dropWrongSource;
    public final AtomicCounter dropMalformed;
    public final AtomicCounter dropTooShort;
    public final AtomicCounter dropBadVersion;
    public final AtomicCounter dropSendFailed;
    public final AtomicCounter dropTransformer;
    public final AtomicCounter transcoded;
    public final AtomicCounter sessions;
    public final AtomicCounter portsInUse;
    public final AtomicCounter callsTimedOut;
    public final AtomicCounter callsFinalTimeout;
    public final AtomicCounter portsExhausted;
    public final AtomicCounter restoreFailures;
    public final AtomicCounter portsBusyElsewhere;
    public final AtomicCounter ngRequests;
    public final AtomicCounter ngErrors;
    public final AtomicCounter ngRetransmits;
    public final AtomicCounter ngMalformed;
    public final AtomicCounter ngSourceRefused;
    public final AtomicCounter ngLoadLimit;
    public final AtomicCounter roleActive;
    public final AtomicCounter roleChanges;

    public MediaCounters(final File file)
    {
        file.getParentFile().mkdirs();
        if (file.exists())
        {
            file.delete();
        }
        mapped = IoUtil.mapNewFile(file, HEADER + META_LENGTH + VALUES_LENGTH);
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER);
        header.putInt(0, META_LENGTH);
        header.putInt(4, VALUES_LENGTH);
        manager = new CountersManager(
            new UnsafeBuffer(mapped, HEADER, META_LENGTH), new UnsafeBuffer(mapped, HEADER + META_LENGTH, VALUES_LENGTH));
        rxPackets = manager.newCounter("rx packets");
        rxBytes = manager.newCounter("rx bytes");
        txPackets = manager.newCounter("tx packets");
        txBytes = manager.newCounter("tx bytes");
        rtcpPackets = manager.newCounter("rtcp packets relayed");
        dropNoDestination = manager.newCounter("drop: peer has no address yet");
        dropWrongSource = manager.newCounter("drop: wrong source");
        dropMalformed = manager.newCounter("drop: malformed");
        dropTooShort = manager.newCounter("drop: too short");
        dropBadVersion = manager.newCounter("drop: rtp version != 2");
        dropSendFailed = manager.newCounter("drop: send failed");
        dropTransformer = manager.newCounter("drop: transformer");
        transcoded = manager.newCounter("packets transcoded");
        sessions = manager.newCounter("calls active");
        portsInUse = manager.newCounter("ports in use");
        callsTimedOut = manager.newCounter("calls ended by timeout");
        callsFinalTimeout = manager.newCounter("calls ended by final timeout");
        portsExhausted = manager.newCounter("port allocation failures");
        restoreFailures = manager.newCounter("calls not restored at start");
        portsBusyElsewhere = manager.newCounter("ports skipped: bound by another process");
        ngRequests = manager.newCounter("ng requests");
        ngErrors = manager.newCounter("ng error replies");
        ngRetransmits = manager.newCounter("ng retransmissions answered from cache");
        ngMalformed = manager.newCounter("ng malformed messages");
        ngSourceRefused = manager.newCounter("ng dropped: source not allowed");
        ngLoadLimit = manager.newCounter("ng load limit replies");
        roleActive = manager.newCounter("role: 1 active, 0 standby");
        roleChanges = manager.newCounter("role changes");
    }

    public CountersReader reader()
    {
        return manager;
    }

    /** Open a counters file written by a running Tandem, read-only. */
    public static CountersReader open(final File file)
    {
        final MappedByteBuffer buffer = IoUtil.mapExistingFile(file, "tandem counters");
        final AtomicBuffer header = new UnsafeBuffer(buffer, 0, HEADER);
        final int meta = header.getInt(0);
        final int values = header.getInt(4);
        return new CountersReader(new UnsafeBuffer(buffer, HEADER, meta), new UnsafeBuffer(buffer, HEADER + meta, values));
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}
