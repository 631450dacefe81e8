package io.tandem.sip;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Calls through a proxy of this process's own, before the shim takes traffic: a shim that takes over at a failover
 * is otherwise cold, and measured cold at 1,000 calls/s it failed 7.3% of its calls while the JIT compiled
 * (docs/benchmarks.md). A temporary proxy, built from the same settings on a free loopback port with no journal, no
 * media node and no control socket, relays complete calls (INVITE, 100, 180, 200, ACK and BYE by loose routing on
 * its Record-Route, 200) between a caller and a callee played here over UDP; the code it runs is the shim's own, so
 * the compiled code serves the real proxy afterwards. Nothing of the temporary proxy outlives {@link #run}.
 */
final class SipWarmUp
{
    private static final String HOST = "127.0.0.1";
    private static final int IN_FLIGHT = 16;
    /** A call that got no message for this long is given up (a datagram lost on loopback) and another started. */
    private static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final String SDP = """
        v=0\r
        o=- 3912 3912 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio 40000 RTP/AVP 0 8 101\r
        a=rtpmap:101 telephone-event/8000\r
        a=sendrecv\r
        """;

    private final SipContext settings;

    /** @param settings the real shim's settings: its threads are the temporary proxy's */
    SipWarmUp(final SipContext settings)
    {
        this.settings = settings;
    }

    /**
     * Relay up to {@code calls} calls, {@value #IN_FLIGHT} at a time, until they are done or the time is up.
     * @return the calls that completed (their BYE answered)
     */
    int run(final int calls, final long timeoutNs) throws Exception
    {
        final long deadline = System.nanoTime() + timeoutNs;
        try (DatagramChannel caller = open();
            DatagramChannel callee = open();
            Selector selector = Selector.open())
        {
            final SipContext proxyCtx = new SipContext().listen(HOST + ":" + freePort()).route(HOST + ":" +
                port(callee)).routes("").listenControl("none").listenMetrics("none").journal("", "")
                .threads(settings.threads()).conclude();
            final SipShim proxy = new SipShim(proxyCtx);
            try
            {
                caller.register(selector, SelectionKey.OP_READ);
                callee.register(selector, SelectionKey.OP_READ);
                return new Calls(caller, callee, proxyCtx.listenAddress()).run(selector, calls, deadline);
            }
            finally
            {
                proxy.close();
            }
        }
    }

    private static DatagramChannel open() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open();
        channel.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
        channel.configureBlocking(false);
        return channel;
    }

    private static int port(final DatagramChannel channel) throws IOException
    {
        return ((InetSocketAddress)channel.getLocalAddress()).getPort();
    }

    /** A loopback port free for UDP now (the proxy binds it for UDP and TCP right after). */
    private static int freePort() throws IOException
    {
        try (DatagramChannel probe = open())
        {
            return port(probe);
        }
    }

    /** The caller's calls in flight and the callee's answers: both parties, on one thread. */
    private static final class Calls
    {
        private final DatagramChannel caller;
        private final DatagramChannel callee;
        private final InetSocketAddress proxy;
        private final int callerPort;
        private final int calleePort;
        private final Map<String, Long> lastHeard = new HashMap<>();
        private final ByteBuffer buffer = ByteBuffer.allocate(65_536);
        private int started;
        private int completed;

        Calls(final DatagramChannel caller, final DatagramChannel callee, final InetSocketAddress proxy)
            throws IOException
        {
            this.caller = caller;
            this.callee = callee;
            this.proxy = proxy;
            this.callerPort = port(caller);
            this.calleePort = port(callee);
        }

        int run(final Selector selector, final int calls, final long deadline) throws IOException
        {
            while (completed < calls && System.nanoTime() - deadline < 0)
            {
                dropStalled();
                while (lastHeard.size() < IN_FLIGHT && started < calls)
                {
                    invite();
                }
                selector.select(50);
                selector.selectedKeys().clear();
                SocketAddress from;
                while ((from = receive(callee)) != null)
                {
                    answer(SipText.parse(buffer), from);
                }
                while (receive(caller) != null)
                {
                    progress(SipText.parse(buffer));
                }
            }
            return completed;
        }

        private SocketAddress receive(final DatagramChannel channel) throws IOException
        {
            buffer.clear();
            final SocketAddress from = channel.receive(buffer);
            buffer.flip();
            return from;
        }

        private void dropStalled()
        {
            final long now = System.nanoTime();
            lastHeard.values().removeIf((heard) -> now - heard > STALL_NS);
        }

        private void invite() throws IOException
        {
            final int call = started++;
            final String callId = UUID.randomUUID() + "@" + HOST;
            lastHeard.put(callId, System.nanoTime());
            send(caller, proxy, "INVITE sip:warm-" + call + "@" + HOST + ":" + calleePort + " SIP/2.0\r\n" +
                "Via: SIP/2.0/UDP " + HOST + ":" + callerPort + ";branch=" + branch(callId) + "-i;rport\r\n" +
                "Max-Forwards: 70\r\n" +
                "From: <sip:caller@" + HOST + ":" + callerPort + ">;tag=w" + call + "\r\n" +
                "To: <sip:warm-" + call + "@" + HOST + ">\r\n" +
                "Call-ID: " + callId + "\r\n" +
                "CSeq: 1 INVITE\r\n" +
                "Contact: <sip:caller@" + HOST + ":" + callerPort + ">\r\n", SDP);
        }

        /** The callee: 180 and 200 for an INVITE, 200 for a BYE, nothing for an ACK. */
        private void answer(final SipText request, final SocketAddress from) throws IOException
        {
            if (request == null || request.method() == null || !request.complete())
            {
                return; // not the proxy's (another local process sending here): ignored
            }
            switch (request.method())
            {
                case "INVITE" ->
                {
                    send(callee, from, response(request, "180 Ringing", true), "");
                    send(callee, from, response(request, "200 OK", true), SDP);
                }
                case "BYE" -> send(callee, from, response(request, "200 OK", false), "");
                default ->
                {
                    // an ACK ends the callee's part
                }
            }
        }

        private String response(final SipText request, final String status, final boolean dialog)
        {
            final StringBuilder text = new StringBuilder("SIP/2.0 ").append(status).append("\r\n");
            request.all("Via").forEach((via) -> text.append("Via: ").append(via).append("\r\n"));
            if (dialog)
            {
                request.all("Record-Route").forEach((rr) -> text.append("Record-Route: ").append(rr).append("\r\n"));
            }
            final String to = request.first("To");
            text.append("From: ").append(request.first("From")).append("\r\n")
                .append("To: ").append(to).append(to.contains(";tag=") ? "" : ";tag=callee")
                .append("\r\n")
                .append("Call-ID: ").append(request.first("Call-ID")).append("\r\n")
                .append("CSeq: ").append(request.first("CSeq")).append("\r\n");
            if (dialog)
            {
                text.append("Contact: <sip:callee@" + HOST + ":" + calleePort + ">\r\n");
            }
            return text.toString();
        }

        /** The caller: on the INVITE's 200 an ACK and a BYE, both by the Record-Route; the BYE's 200 ends the call. */
        private void progress(final SipText response) throws IOException
        {
            if (response == null || response.status() < 200 || !response.complete())
            {
                return;
            }
            final String callId = response.first("Call-ID");
            if (!lastHeard.containsKey(callId))
            {
                return;
            }
            final String cseq = response.first("CSeq");
            if (cseq.endsWith("BYE"))
            {
                lastHeard.remove(callId);
                completed += response.status() == 200 ? 1 : 0;
                return;
            }
            if (response.status() != 200)
            {
                lastHeard.remove(callId);
                return;
            }
            lastHeard.put(callId, System.nanoTime());
            final List<String> routeSet = new ArrayList<>(response.all("Record-Route"));
            Collections.reverse(routeSet);
            final StringBuilder inDialog = new StringBuilder();
            routeSet.forEach((route) -> inDialog.append("Route: ").append(route).append("\r\n"));
            inDialog.append("Max-Forwards: 70\r\n")
                .append("From: ").append(response.first("From")).append("\r\n")
                .append("To: ").append(response.first("To")).append("\r\n")
                .append("Call-ID: ").append(callId).append("\r\n");
            final String target = "sip:callee@" + HOST + ":" + calleePort;
            final String via = "Via: SIP/2.0/UDP " + HOST + ":" + callerPort + ";branch=" + branch(callId);
            send(caller, proxy, "ACK " + target + " SIP/2.0\r\n" + via + "-a;rport\r\n" + inDialog + "CSeq: 1 ACK\r\n", "");
            send(caller, proxy, "BYE " + target + " SIP/2.0\r\n" + via + "-b;rport\r\n" + inDialog + "CSeq: 2 BYE\r\n", "");
        }

        /** A call's own branch prefix, from its Call-ID's UUID: unique, as a transaction's branch must be. */
        private static String branch(final String callId)
        {
            return "z9hG4bK-" + callId.substring(0, callId.indexOf('@'));
        }

        private static void send(final DatagramChannel channel, final SocketAddress to, final String head,
            final String body) throws IOException
        {
            final String type = body.isEmpty() ? "" : "Content-Type: application/sdp\r\n";
            final byte[] bytes = (head + type + "Content-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
            channel.send(ByteBuffer.wrap(bytes), to);
        }
    }

    /**
     * A SIP message's start line and headers, as far as the parties here need them (full header names only). Only the
     * temporary proxy should send to the parties, but any local process can: whatever arrives parses to this or to
     * null, never to an exception (SipWarmUpTest, with a fuzz target).
     */
    record SipText(String method, int status, Map<String, List<String>> headers)
    {
        /** @return the message, or null for what is not a SIP request or response */
        static SipText parse(final ByteBuffer datagram)
        {
            final String text = StandardCharsets.US_ASCII.decode(datagram).toString();
            final int end = text.indexOf("\r\n\r\n");
            final String[] lines = (end < 0 ? text : text.substring(0, end)).split("\r\n");
            final String[] start = lines.length == 0 ? new String[0] : lines[0].split(" ", 3); // "\r\n" has no line
            if (start.length < 3)
            {
                return null;
            }
            final Map<String, List<String>> headers = new HashMap<>();
            for (int i = 1; i < lines.length; i++)
            {
                final int colon = lines[i].indexOf(':');
                if (colon > 0)
                {
                    headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        (k) -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
                }
            }
            if (start[0].equals("SIP/2.0"))
            {
                try
                {
                    return new SipText(null, Integer.parseInt(start[1]), headers);
                }
                catch (final NumberFormatException ex)
                {
                    return null;
                }
            }
            return new SipText(start[0], 0, headers);
        }

        List<String> all(final String name)
        {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        /** Whether it has what a call's message needs here: From, To, Call-ID and CSeq. */
        boolean complete()
        {
            return first("From") != null && first("To") != null && first("Call-ID") != null && first("CSeq") != null;
        }

        String first(final String name)
        {
            final List<String> values = all(name);
            return values.isEmpty() ? null : values.get(0);
        }
    }
}
