package io.tandem.journal;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

/**
 * Configuration of one journal node, in one place with its defaults ({@link #conclude()} checks it). A node
 * listens on its own journal endpoint and sends to its peer's: the active sends records there, a mirror sends its
 * requests and heartbeats there. By default an embedded Aeron media driver serves the node, in a directory of its
 * own that a clean stop removes; name an external driver's directory to use that instead. Journal traffic belongs
 * on a private link between the two hosts: it is checked (cluster id, source address, checksum, epoch), not
 * encrypted.
 */
public final class JournalContext
{
    private int clusterId = 1;
    private String listen;
    private String peer;
    private String listenChannel;
    private String peerChannel;
    private InetSocketAddress peerSource;
    private String aeronDirectory;
    private File epochFile;
    private boolean startActive = true;
    private int dataStreamId = 1001;
    private int controlStreamId = 1002;
    private long heartbeatIntervalNs = TimeUnit.MILLISECONDS.toNanos(100);
    private long snapshotRetryNs = TimeUnit.SECONDS.toNanos(1);
    private long idleParkNs = TimeUnit.MILLISECONDS.toNanos(100);
    private int maxPendingRecords = 1 << 20;
    private boolean concluded;

    public JournalContext conclude()
    {
        if (listen == null && listenChannel == null)
        {
            throw new IllegalArgumentException("journal: the node's own endpoint (listen HOST:PORT) is missing");
        }
        if (peer == null && peerChannel == null)
        {
            throw new IllegalArgumentException("journal: the peer's endpoint (HOST:PORT) is missing");
        }
        if (epochFile == null)
        {
            throw new IllegalArgumentException("journal: an epoch file is needed (it survives restarts)");
        }
        if (listenChannel == null)
        {
            listenChannel = "aeron:udp?endpoint=" + listen;
        }
        if (peerChannel == null)
        {
            // Sent from this node's journal address and the port after its listening one: the source the peer
            // checks every record against.
            peerChannel = "aeron:udp?endpoint=" + peer + (listen == null ? "" : "|interface=" + sendingFrom(listen));
            if (listen != null)
            {
                peerSource = endpoint(sendingFrom(peer));
                if (peerSource == null)
                {
                    throw new IllegalArgumentException("journal: the peer's endpoint is not HOST:PORT: " + peer);
                }
            }
        }
        concluded = true;
        return this;
    }

    public boolean isConcluded()
    {
        return concluded;
    }

    /** A name for this node that is unique on its host and stable across restarts: its endpoint, or its channel. */
    public String nodeName()
    {
        final String basis = listen != null ? listen : listenChannel;
        return basis.replaceAll("[^A-Za-z0-9]+", "-");
    }

    /** The cluster this node belongs to: records of another cluster are refused. */
    public JournalContext clusterId(final int value)
    {
        clusterId = value;
        return this;
    }

    public int clusterId()
    {
        return clusterId;
    }

    /** This node's journal endpoint, {@code HOST:PORT} (a private address of this host). */
    public JournalContext listen(final String value)
    {
        listen = value;
        return this;
    }

    /** The peer's journal endpoint, {@code HOST:PORT}: the only source this node accepts records from. */
    public JournalContext peer(final String value)
    {
        peer = value;
        return this;
    }

    /**
     * Where the peer's records come from: its journal address and the port after the one it listens on; null when
     * only channels were given (then the cluster id and checksums are the checks). Set by {@link #conclude()}.
     */
    public InetSocketAddress peerSource()
    {
        return peerSource;
    }

    private static String sendingFrom(final String endpoint)
    {
        final int colon = endpoint.lastIndexOf(':');
        return endpoint.substring(0, colon) + ":" + (Integer.parseInt(endpoint.substring(colon + 1)) + 1);
    }

    /** {@code HOST:PORT} (an IPv6 host in brackets or not) as an address, or null if it is not one. */
    static InetSocketAddress endpoint(final String hostPort)
    {
        try
        {
            final int colon = hostPort.lastIndexOf(':');
            final String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
            return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(hostPort.substring(colon + 1)));
        }
        catch (final UnknownHostException | RuntimeException ex)
        {
            return null;
        }
    }

    /** An Aeron channel to receive on instead of {@code aeron:udp?endpoint=LISTEN} (multicast, say). */
    public JournalContext listenChannel(final String value)
    {
        listenChannel = value;
        return this;
    }

    public String listenChannel()
    {
        return listenChannel;
    }

    /** An Aeron channel to send on instead of {@code aeron:udp?endpoint=PEER} (multicast or MDC, say). */
    public JournalContext peerChannel(final String value)
    {
        peerChannel = value;
        return this;
    }

    public String peerChannel()
    {
        return peerChannel;
    }

    /** An external media driver's directory; null (the default) embeds a driver of this node's own. */
    public JournalContext aeronDirectory(final String value)
    {
        aeronDirectory = value;
        return this;
    }

    public String aeronDirectory()
    {
        return aeronDirectory;
    }

    public JournalContext epochFile(final File value)
    {
        epochFile = value;
        return this;
    }

    public File epochFile()
    {
        return epochFile;
    }

    /** The role this node starts in, unless its peer holds a higher epoch (then it starts as mirror). */
    public JournalContext startActive(final boolean value)
    {
        startActive = value;
        return this;
    }

    public boolean startActive()
    {
        return startActive;
    }

    public int dataStreamId()
    {
        return dataStreamId;
    }

    public int controlStreamId()
    {
        return controlStreamId;
    }

    public JournalContext heartbeatIntervalNs(final long value)
    {
        heartbeatIntervalNs = value;
        return this;
    }

    public long heartbeatIntervalNs()
    {
        return heartbeatIntervalNs;
    }

    /**
     * The longest the node's thread parks between passes once no record has moved for a second (the embedded
     * driver's duty cycle runs once per pass): an idle pair's CPU against how late a mirror hears the first record
     * after a quiet spell. The writer is woken at once by a change; while records move, parks stay under 10 ms.
     */
    public JournalContext idleParkNs(final long value)
    {
        idleParkNs = value;
        return this;
    }

    public long idleParkNs()
    {
        return idleParkNs;
    }

    public long snapshotRetryNs()
    {
        return snapshotRetryNs;
    }

    /** Records waiting for a slow mirror beyond this are dropped and the mirror resyncs by snapshot. */
    public int maxPendingRecords()
    {
        return maxPendingRecords;
    }
}
