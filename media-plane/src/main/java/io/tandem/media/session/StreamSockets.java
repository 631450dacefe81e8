package io.tandem.media.session;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.tandem.media.relay.RelayProxy;
import io.tandem.media.stats.MediaCounters;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The media interfaces of a node at run time, their ports, and binding a stream's RTP and RTCP sockets on a port
 * pair of one of them, skipping (and counting) pairs another process holds. The registry's, under its lock.
 * <p>
 * The forwarding agent closes a removed stream's sockets on its own time; only then may its ports be bound again.
 * So a removal hands the agent a callback ({@link #closing}) that queues the streams back here once closed, and the
 * control side takes their ports back ({@link #reclaim}) before it allocates. Out of ports while streams are still
 * closing, it waits for the agent once ({@link #reclaimWaiting}) rather than refuse a call for ports about to be free.
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
    private final RelayProxy relay;
    /** Streams whose sockets the agent has closed, queued on its thread. */
    private final ManyToOneConcurrentArrayQueue<List<MediaStream>> closed = new ManyToOneConcurrentArrayQueue<>(4096);
    /** Removals handed to the agent whose ports are not back yet. */
    private final AtomicInteger closing = new AtomicInteger();

    StreamSockets(final List<InterfaceSpec> specs, final MediaCounters counters, final int tos, final boolean freebind,
        final RelayProxy relay)
    {
        this.relay = relay;
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
        reclaim();
        return hasPortsNow(streams, fromInterface, toInterface) ||
            (reclaimWaiting() && hasPortsNow(streams, fromInterface, toInterface));
    }

    private boolean hasPortsNow(final int streams, final String fromInterface, final String toInterface)
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

    /** The callback for the agent to run once it has closed {@code streams}' sockets (on its thread). */
    Runnable closing(final List<MediaStream> streams)
    {
        closing.incrementAndGet();
        return () ->
        {
            while (!closed.offer(streams))
            {
                Thread.onSpinWait(); // drained at every command and housekeeping pass
            }
        };
    }

    /** Give back the ports of streams whose sockets the agent has closed since the last call. */
    void reclaim()
    {
        List<MediaStream> streams;
        boolean any = false;
        while ((streams = closed.poll()) != null)
        {
            for (final MediaStream stream : streams)
            {
                stream.iface.ports.release(stream.port);
                relay.forget(stream.handle);
            }
            closing.decrementAndGet();
            any = true;
        }
        if (any)
        {
            updatePortsInUse();
        }
    }

    /** If streams are still closing, wait for the agent and take their ports back. @return whether it waited. */
    boolean reclaimWaiting()
    {
        if (closing.get() == 0)
        {
            return false;
        }
        relay.settle();
        reclaim();
        return true;
    }

    private int allocatePort(final MediaInterface iface) throws MediaException
    {
        int port = iface.ports.allocate();
        if (port == PortAllocator.EXHAUSTED && reclaimWaiting())
        {
            port = iface.ports.allocate();
        }
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
        final int handle;
        try
        {
            handle = relay.open(iface.bindAddress(), port, tos, freebind);
        }
        catch (final IOException ex)
        {
            iface.ports.release(port);
            final boolean notLocal = ex instanceof java.net.BindException && !freebind &&
                String.valueOf(ex.getMessage()).contains("Cannot assign requested address");
            throw new MediaException("Could not bind media ports " + port + "/" + (port + 1) + " on interface " +
                iface.name() + ": " + ex.getMessage() + (notLocal ? " (the address is not on this host; a standby " +
                "binding a virtual IP needs --freebind or the ip_nonlocal_bind sysctl)" : ""));
        }
        final MediaStream stream = new MediaStream(index, iface, relay, handle, port);
        added.add(stream);
        return stream;
    }

    /** Undo {@link #newStream} for streams that never reached the agent. */
    void closeUnpublished(final List<MediaStream> added)
    {
        for (final MediaStream stream : added)
        {
            relay.discard(stream.handle);
            stream.iface.ports.release(stream.port);
        }
    }

    /** The relay's handles of {@code streams}. */
    static int[] handles(final List<MediaStream> streams)
    {
        final int[] handles = new int[streams.size()];
        for (int i = 0; i < handles.length; i++)
        {
            handles[i] = streams.get(i).handle;
        }
        return handles;
    }
}
