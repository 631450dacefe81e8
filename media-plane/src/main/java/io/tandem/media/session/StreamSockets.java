package io.tandem.media.session;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tandem.media.relay.Endpoint;
import io.tandem.media.relay.MediaSockets;
import io.tandem.media.stats.MediaCounters;

import org.agrona.CloseHelper;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The media interfaces of a node at run time, their ports, and binding a stream's RTP and RTCP sockets on a port
 * pair of one of them, skipping (and counting) pairs another process holds. The registry's, under its lock.
 */
final class StreamSockets
{
    private static final int BIND_ATTEMPTS = 16;

    private final Map<String, MediaInterface> interfaces = new LinkedHashMap<>();
    private final Map<String, AtomicCounter[]> interfacePorts = new HashMap<>();
    private final MediaInterface defaultInterface;
    private final MediaCounters counters;
    private final int tos;
    private final boolean freebind;

    StreamSockets(final List<InterfaceSpec> specs, final MediaCounters counters, final int tos, final boolean freebind)
    {
        this.counters = counters;
        this.tos = tos;
        this.freebind = freebind;
        for (final InterfaceSpec spec : specs)
        {
            interfaces.put(spec.name(), new MediaInterface(spec));
        }
        defaultInterface = interfaces.values().iterator().next();
        for (final MediaInterface iface : interfaces.values())
        {
            final AtomicCounter[] gauges = counters.interfacePorts(iface.name());
            gauges[1].setRelease(2L * iface.ports.capacity());
            interfacePorts.put(iface.name(), gauges);
        }
    }

    /**
     * Whether a new call of {@code streams} media sections has the port pairs it needs: one per stream on each
     * side's interface (null: the default). An unknown interface answers true: the offer then says what is wrong.
     */
    boolean hasPortsFor(final int streams, final String fromInterface, final String toInterface)
    {
        final MediaInterface from = fromInterface == null ? defaultInterface : interfaces.get(fromInterface);
        final MediaInterface to = toInterface == null ? defaultInterface : interfaces.get(toInterface);
        if (from == null || to == null)
        {
            return true;
        }
        return from == to ? from.ports.available() >= 2 * streams :
            from.ports.available() >= streams && to.ports.available() >= streams;
    }

    /** The default interface's port allocator. */
    PortAllocator ports()
    {
        return defaultInterface.ports;
    }

    /** The logical interfaces, the default first. */
    List<MediaInterface> interfaces()
    {
        return List.copyOf(interfaces.values());
    }

    MediaInterface mediaInterface(final String name) throws MediaException
    {
        if (name == null)
        {
            return defaultInterface;
        }
        final MediaInterface iface = interfaces.get(name);
        if (iface == null)
        {
            throw new MediaException("Unknown interface '" + name + "'");
        }
        return iface;
    }

    void updatePortsInUse()
    {
        long inUse = 0;
        for (final MediaInterface iface : interfaces.values())
        {
            final long used = 2L * (iface.ports.capacity() - iface.ports.available());
            interfacePorts.get(iface.name())[0].setRelease(used);
            inUse += used;
        }
        counters.portsInUse.setRelease(inUse);
    }

    private int allocatePort(final MediaInterface iface) throws MediaException
    {
        final int port = iface.ports.allocate();
        if (port == PortAllocator.EXHAUSTED)
        {
            counters.portsExhausted.incrementRelease();
            throw new MediaException("Ran out of ports");
        }
        return port;
    }

    /**
     * A new stream on a free port pair of the interface. A port pair some other process holds (an ephemeral port
     * of an outgoing connection, say) is skipped, counted, and goes back to the allocator for later.
     */
    MediaStream bindNewStream(final int index, final MediaInterface iface, final List<MediaStream> added)
        throws MediaException
    {
        MediaException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++)
        {
            try
            {
                return newStream(index, iface, allocatePort(iface), added);
            }
            catch (final MediaException ex)
            {
                if (ex.getMessage().equals("Ran out of ports"))
                {
                    throw ex;
                }
                counters.portsBusyElsewhere.incrementRelease();
                last = ex;
            }
        }
        throw last;
    }

    /** Bind the RTP (even) and RTCP (odd) sockets of one stream on a port already taken from the allocator. */
    MediaStream newStream(final int index, final MediaInterface iface, final int port, final List<MediaStream> added)
        throws MediaException
    {
        DatagramChannel rtp = null;
        DatagramChannel rtcp = null;
        try
        {
            rtp = MediaSockets.open(iface.bindAddress(), port, tos, freebind);
            rtcp = MediaSockets.open(iface.bindAddress(), port + 1, tos, freebind);
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(rtp, rtcp);
            iface.ports.release(port);
            final boolean notLocal = ex instanceof java.net.BindException && !freebind &&
                String.valueOf(ex.getMessage()).contains("Cannot assign requested address");
            throw new MediaException("Could not bind media ports " + port + "/" + (port + 1) + " on interface " +
                iface.name() + ": " + ex.getMessage() + (notLocal ? " (the address is not on this host; a standby " +
                "binding a virtual IP needs --freebind or the ip_nonlocal_bind sysctl)" : ""));
        }
        final MediaStream stream =
            new MediaStream(index, iface, new Endpoint(rtp, port, false), new Endpoint(rtcp, port + 1, true));
        Endpoint.siblings(stream.rtp, stream.rtcp);
        added.add(stream);
        return stream;
    }

    /** Undo {@link #newStream} for streams that never reached the agent. */
    static void closeUnpublished(final List<MediaStream> added)
    {
        for (final MediaStream stream : added)
        {
            CloseHelper.quietCloseAll(stream.rtp.channel(), stream.rtcp.channel());
            stream.iface.ports.release(stream.rtp.localPort());
        }
    }
}
