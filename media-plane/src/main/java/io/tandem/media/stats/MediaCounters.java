package io.tandem.media.stats;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.util.ArrayList;
import java.util.List;

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
 * <p>
 * Who writes what: the relay's packet counters are written by the forwarding agent alone (single-writer
 * {@code incrementRelease}); the ng counters by every ng listener thread (UDP, TCP, WebSocket, HTTP), so they are
 * bumped with the atomic {@code increment}; the call and port gauges under the media plane's lock.
 */
public final class MediaCounters implements AutoCloseable
{
    public static final int MAX_COUNTERS = 256;
    private static final int HEADER = 64;
    private static final int META_LENGTH = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
    private static final int VALUES_LENGTH = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;

    private final MappedByteBuffer mapped;
    private final CountersManager manager;
    private final List<Metric> metrics = new ArrayList<>();

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
    public final AtomicCounter dropOwnSocket;
    public final AtomicCounter xdpPackets;
    public final AtomicCounter xdpStreams;
    public final AtomicCounter xdpErrors;
    public final AtomicCounter transcoded;
    public final AtomicCounter sessions;
    public final AtomicCounter portsInUse;
    public final AtomicCounter callsTimedOut;
    public final AtomicCounter callsFinalTimeout;
    public final AtomicCounter portsExhausted;
    public final AtomicCounter callsAside;
    public final AtomicCounter sessionsRecoveryDropped;
    public final AtomicCounter portsBusyElsewhere;
    public final AtomicCounter relayRegisterFailures;
    public final AtomicCounter sessionsFileFull;
    public final AtomicCounter ngRequests;
    public final AtomicCounter ngErrors;
    public final AtomicCounter ngRetransmits;
    public final AtomicCounter ngMalformed;
    public final AtomicCounter ngSourceRefused;
    public final AtomicCounter ngLoadLimit;
    public final AtomicCounter ngConnectionsRefused;
    public final AtomicCounter ngConnectionsTimedOut;
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
        rxPackets = counter("rx packets", "tandem_received_packets_total", false, "Datagrams received on media sockets");
        rxBytes = counter("rx bytes", "tandem_received_bytes_total", false, "Bytes received on media sockets");
        txPackets = counter("tx packets", "tandem_sent_packets_total", false, "Datagrams relayed out of media sockets");
        txBytes = counter("tx bytes", "tandem_sent_bytes_total", false, "Bytes relayed out of media sockets");
        rtcpPackets = counter("rtcp packets relayed", "tandem_rtcp_packets_total", false, "RTCP packets relayed");
        dropNoDestination = counter("drop: peer has no address yet", "tandem_dropped_packets_total{reason=\"no_destination\"}", false, "Datagrams dropped, by reason");
        dropWrongSource = counter("drop: wrong source", "tandem_dropped_packets_total{reason=\"wrong_source\"}", false, "Datagrams dropped, by reason");
        dropMalformed = counter("drop: malformed", "tandem_dropped_packets_total{reason=\"malformed\"}", false, "Datagrams dropped, by reason");
        dropTooShort = counter("drop: too short", "tandem_dropped_packets_total{reason=\"too_short\"}", false, "Datagrams dropped, by reason");
        dropBadVersion = counter("drop: rtp version != 2", "tandem_dropped_packets_total{reason=\"bad_version\"}", false, "Datagrams dropped, by reason");
        dropSendFailed = counter("drop: send failed", "tandem_dropped_packets_total{reason=\"send_failed\"}", false, "Datagrams dropped, by reason");
        dropTransformer = counter("drop: transformer", "tandem_dropped_packets_total{reason=\"transformer\"}", false, "Datagrams dropped, by reason");
        xdpPackets = counter("xdp: packets forwarded in the kernel", "tandem_xdp_packets_total", false,
            "Packets the XDP fast path forwarded in the kernel (read at each timeout scan)");
        xdpStreams = counter("xdp: streams in the kernel", "tandem_xdp_streams", true,
            "Streams the XDP fast path forwards now");
        xdpErrors = counter("xdp: failures", "tandem_xdp_errors_total", false,
            "Streams the XDP fast path could not take (no neighbour entry, a map error)");
        dropOwnSocket = counter("drop: from Tandem's own socket (loop)", "tandem_dropped_packets_total{reason=\"own_socket\"}", false, "Datagrams dropped, by reason");
        transcoded = counter("packets transcoded", "tandem_transcoded_packets_total", false, "Packets transcoded in the forwarding loop");
        sessions = counter("calls active", "tandem_calls", true, "Calls relayed now");
        portsInUse = counter("ports in use", "tandem_ports_in_use", true, "Media ports allocated now");
        callsTimedOut = counter("calls ended by timeout", "tandem_calls_ended_total{reason=\"timeout\"}", false, "Calls ended by Tandem, by reason");
        callsFinalTimeout = counter("calls ended by final timeout", "tandem_calls_ended_total{reason=\"final_timeout\"}", false, "Calls ended by Tandem, by reason");
        portsExhausted = counter("port allocation failures", "tandem_port_allocation_failures_total", false, "Offers refused for want of ports");
        callsAside = counter("calls kept aside (not restored)", "tandem_calls_aside", true, "Persisted calls kept aside because a start could not restore them; retried at every start");
        portsBusyElsewhere = counter("ports skipped: bound by another process", "tandem_ports_busy_elsewhere_total", false, "Ports skipped because another process had bound them");
        sessionsRecoveryDropped = counter("sessions file: damaged records dropped by crash recovery", "tandem_sessions_recovery_dropped_total", false, "Records the sessions file's recovery after a crash found damaged and could not keep (logged)");
        sessionsFileFull = counter("sessions file full: record not written", "tandem_sessions_file_full_total", false, "Call records the sessions file could not hold (new calls refused; changes relayed unsaved)");
        relayRegisterFailures = counter("streams the relay could not poll", "tandem_relay_register_failures_total", false, "Streams whose bound sockets the relay could not add to its poll set (they stay silent)");
        ngRequests = counter("ng requests", "tandem_ng_requests_total", false, "ng commands executed");
        ngErrors = counter("ng error replies", "tandem_ng_errors_total", false, "ng commands answered with an error");
        ngRetransmits = counter("ng retransmissions answered from cache", "tandem_ng_retransmissions_total", false, "ng retransmissions answered from the reply cache");
        ngMalformed = counter("ng malformed messages", "tandem_ng_malformed_total", false, "ng messages that could not be decoded");
        ngSourceRefused = counter("ng dropped: source not allowed", "tandem_ng_refused_total", false, "ng messages dropped: source not allowed");
        ngLoadLimit = counter("ng load limit replies", "tandem_ng_load_limit_total", false, "Offers answered with load limit");
        ngConnectionsRefused = counter("ng connections refused: too many open", "tandem_ng_connections_refused_total", false, "TCP and WebSocket ng connections closed at once: the listener had its maximum open");
        ngConnectionsTimedOut = counter("ng connections closed: message not completed in time", "tandem_ng_connections_timed_out_total", false, "TCP and WebSocket ng connections closed because a message they began was not completed in time");
        roleActive = counter("role: 1 active, 0 standby", "tandem_role_active", true, "1 when this node is active, 0 when standby");
        roleChanges = counter("role changes", "tandem_role_changes_total", false, "HA role changes");
    }

    /**
     * One counter as Prometheus exposes it: its name with any labels, whether it is a gauge (else a counter), its
     * help text.
     */
    public record Metric(String name, boolean gauge, String help, AtomicCounter counter)
    {
        /** The metric family: the name without its labels. */
        public String family()
        {
            final int brace = name.indexOf('{');
            return brace < 0 ? name : name.substring(0, brace);
        }
    }

    /** A counter of another component (the state journal, say) in this file, with its Prometheus name and help. */
    public AtomicCounter newCounter(final String label, final String metric, final boolean gauge, final String help)
    {
        return counter(label, metric, gauge, help);
    }

    private AtomicCounter counter(final String label, final String metric, final boolean gauge, final String help)
    {
        final AtomicCounter counter = manager.newCounter(label);
        metrics.add(new Metric(metric, gauge, help, counter));
        return counter;
    }

    /** Every counter, in registration order, with its Prometheus name. */
    public List<Metric> metrics()
    {
        return List.copyOf(metrics);
    }

    /**
     * Gauges of one media interface's ports, registered once per interface at start:
     * {@code [0]} ports allocated now, {@code [1]} ports it has (RTP and RTCP both count).
     */
    public AtomicCounter[] interfacePorts(final String name)
    {
        final String label = "{interface=\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        return new AtomicCounter[] {
            counter("ports in use: " + name, "tandem_interface_ports_in_use" + label, true,
                "Media ports allocated now, by interface"),
            counter("ports: " + name, "tandem_interface_ports" + label, true, "Media ports an interface has"),
        };
    }

    /** Persisted calls a start could not restore for {@code reason} (a label value), counted once per start. */
    public AtomicCounter restoreFailures(final String reason)
    {
        return counter("calls not restored: " + reason, "tandem_restore_failures_total{reason=\"" + reason + "\"}", false,
            "Persisted calls that a start could not restore, by reason");
    }

    /** The counters in Prometheus' text exposition format (version 0.0.4), each family's samples together. */
    public String prometheusText()
    {
        final java.util.Map<String, List<Metric>> families = new java.util.LinkedHashMap<>();
        for (final Metric metric : metrics)
        {
            families.computeIfAbsent(metric.family(), (family) -> new ArrayList<>()).add(metric);
        }
        final StringBuilder out = new StringBuilder(4096);
        for (final java.util.Map.Entry<String, List<Metric>> family : families.entrySet())
        {
            final Metric first = family.getValue().get(0);
            out.append("# HELP ").append(family.getKey()).append(' ').append(first.help()).append('\n');
            out.append("# TYPE ").append(family.getKey()).append(first.gauge() ? " gauge" : " counter").append('\n');
            for (final Metric metric : family.getValue())
            {
                out.append(metric.name()).append(' ').append(metric.counter().get()).append('\n');
            }
        }
        return out.toString();
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
