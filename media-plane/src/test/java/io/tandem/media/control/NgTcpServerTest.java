package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.Bencode;
import io.tandem.ng.BencodeException;

/** ng over TCP: messages back to back on one connection, split across reads, and malformed ones. */
class NgTcpServerTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgTcpServer server;
    private Socket socket;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(socket, server, plane);
    }

    private void start(final NgContext ng) throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(20300, 20399));
        ng.listenTcp("127.0.0.1:0").conclude();
        server = new NgTcpServer(ng, new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
        socket = new Socket(server.localAddress().getAddress(), server.localAddress().getPort());
        socket.setSoTimeout(3000);
    }

    private static byte[] message(final String cookie, final Map<String, Object> request)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((cookie + " ").getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(Bencode.encode(request));
        return out.toByteArray();
    }

    /** Read one reply: the cookie, a space, one bencoded value. */
    private Map<?, ?> reply(final String cookie) throws Exception
    {
        final InputStream in = socket.getInputStream();
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        while (true)
        {
            final int b = in.read();
            if (b < 0)
            {
                throw new AssertionError("connection closed after: " + seen);
            }
            seen.write(b);
            final byte[] bytes = seen.toByteArray();
            final String text = new String(bytes, StandardCharsets.ISO_8859_1);
            if (text.startsWith(cookie + " ") && bytes.length > cookie.length() + 1)
            {
                try
                {
                    final Bencode.Prefix prefix = Bencode.decodePrefix(bytes, cookie.length() + 1, bytes.length - cookie.length() - 1);
                    return (Map<?, ?>)prefix.value();
                }
                catch (final BencodeException ex)
                {
                    if (!ex.isTruncated())
                    {
                        throw ex;
                    }
                }
            }
        }
    }

    @Test
    void messagesBackToBackAndSplitAcrossWritesAreEachAnswered() throws Exception
    {
        start(new NgContext());
        final Map<String, Object> ping = new LinkedHashMap<>();
        ping.put("command", "ping");
        final Map<String, Object> offer = NgServerTest.kamailio("offer", "tcp-call", "a");
        offer.put("sdp", NgServerTest.sdp(4000, "a"));
        final OutputStream out = socket.getOutputStream();
        final ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.writeBytes(message("t1", ping));
        both.writeBytes(message("t2", offer));
        out.write(both.toByteArray());
        out.flush();
        assertEquals("pong", reply("t1").get("result"));
        assertEquals("ok", reply("t2").get("result"));

        final byte[] split = message("t3", ping);
        out.write(split, 0, 5);
        out.flush();
        out.write(split, 5, split.length - 5);
        out.flush();
        assertEquals("pong", reply("t3").get("result"));
        assertEquals(List.of("tcp-call"), plane.registry().callIds());
    }

    @Test
    void jsonMessagesAreFramedByTheirOutermostObject() throws Exception
    {
        start(new NgContext());
        final OutputStream out = socket.getOutputStream();
        final String first = "j1 {\"command\": \"ping\", \"note\": \"} braces { in \\\" a string\"}";
        final String second = "j2 {\"command\": \"list\"}";
        final byte[] both = (first + second).getBytes(StandardCharsets.UTF_8);
        out.write(both, 0, 10);
        out.flush();
        out.write(both, 10, both.length - 10);
        out.flush();
        final java.io.InputStream in = socket.getInputStream();
        final String expected = "j1 {\"result\":\"pong\"}j2 {\"result\":\"ok\",\"calls\":[]}";
        final ByteArrayOutputStream replies = new ByteArrayOutputStream();
        final long deadline = System.nanoTime() + 3_000_000_000L;
        while (replies.size() < expected.length() && System.nanoTime() - deadline < 0)
        {
            final int b = in.read();
            if (b < 0)
            {
                break;
            }
            replies.write(b);
        }
        assertEquals(expected, replies.toString(StandardCharsets.UTF_8));
    }

    /**
     * However TCP cuts a message (the writes above may or may not reach the server as one read), the framing waits
     * for the rest: at every cut point nothing is answered and nothing consumed; the whole message is answered once.
     */
    @Test
    void aMessageCutAtAnyByteWaitsForTheRest() throws Exception
    {
        start(new NgContext());
        final byte[] bencoded = message("t9", Map.of("command", "ping"));
        final byte[] json = "j9 {\"command\": \"ping\", \"note\": \"} { \\\" \"}".getBytes(StandardCharsets.UTF_8);
        for (final byte[] whole : List.of(bencoded, json))
        {
            for (int cut = 1; cut < whole.length; cut++)
            {
                final ByteArrayOutputStream replies = new ByteArrayOutputStream();
                assertEquals(0, server.handleOne(whole, cut, replies), "cut at " + cut + " of " + new String(whole, StandardCharsets.UTF_8));
                assertEquals(0, replies.size(), "nothing answered for a part");
            }
            final ByteArrayOutputStream replies = new ByteArrayOutputStream();
            assertEquals(whole.length, server.handleOne(whole, whole.length, replies));
            assertTrue(replies.toString(StandardCharsets.UTF_8).contains("pong"), replies.toString(StandardCharsets.UTF_8));
        }
    }

    /** Issue 17, item 10: each connection holds a thread and a buffer, so a listener takes only so many. */
    @Test
    void connectionsBeyondTheMaximumAreClosedAndCounted() throws Exception
    {
        start(new NgContext().maxConnections(2));
        final Socket first = socket;
        try (first; Socket second = new Socket(server.localAddress().getAddress(), server.localAddress().getPort());
            Socket third = new Socket(server.localAddress().getAddress(), server.localAddress().getPort()))
        {
            third.setSoTimeout(3000);
            assertEquals(-1, third.getInputStream().read(), "the third connection is closed at once");
            assertEquals(1, plane.counters().ngConnectionsRefused.get());
            second.getOutputStream().write(message("s1", Map.of("command", "ping")));
            second.setSoTimeout(3000);
            socket = second; // reply() reads the socket under test
            assertEquals("pong", reply("s1").get("result"), "the connections within the maximum are served");
        }
    }

    /**
     * A client that begins a message and never completes it (slowloris) loses its connection once the partial-
     * message timeout passes; one that sends whole messages may idle between them for as long as it likes.
     */
    @Test
    void aBegunMessageMustCompleteInTimeButIdleConnectionsStay() throws Exception
    {
        start(new NgContext().partialMessageTimeoutMs(200));
        final Socket slow = socket;
        try (slow; Socket idle = new Socket(server.localAddress().getAddress(), server.localAddress().getPort()))
        {
            final OutputStream out = socket.getOutputStream();
            out.write("t1 d7:comm".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertEquals(-1, socket.getInputStream().read(), "closed once the rest did not come in time");
            final long deadline = System.nanoTime() + 2_000_000_000L; // counted just after the close
            while (plane.counters().ngConnectionsTimedOut.get() == 0 && System.nanoTime() - deadline < 0)
            {
                Thread.onSpinWait();
            }
            assertEquals(1, plane.counters().ngConnectionsTimedOut.get());

            Thread.sleep(400); // twice the timeout with nothing begun on the idle connection
            idle.setSoTimeout(3000);
            idle.getOutputStream().write(message("i1", Map.of("command", "ping")));
            socket = idle;
            assertEquals("pong", reply("i1").get("result"), "an idle connection is not timed out");
            assertEquals(1, plane.counters().ngConnectionsTimedOut.get());
        }
    }

    @Test
    void malformedBencodeGetsAnErrorAndTheConnectionIsClosed() throws Exception
    {
        start(new NgContext());
        final OutputStream out = socket.getOutputStream();
        out.write("t1 x".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        assertTrue(((String)reply("t1").get("error-reason")).startsWith("Could not decode bencode dictionary"));
        assertEquals(-1, socket.getInputStream().read(), "closed");
        assertEquals(1, plane.counters().ngMalformed.get());
    }

    @Test
    void sourcesOutsideTheAllowedNetworksAreRefused() throws Exception
    {
        start(new NgContext().allow("10.0.0.0/8"));
        assertEquals(-1, socket.getInputStream().read(), "closed at once");
        assertEquals(1, plane.counters().ngSourceRefused.get());
    }
}
