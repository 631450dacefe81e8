package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket.Listener;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.tandem.ng.Bencode;
import io.tandem.ng.WebSocket;

/** ng over WebSocket, driven by the JDK's WebSocket client, and by a raw socket for what a client must not do. */
class NgWebSocketServerTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgWebSocketServer server;
    private final HttpClient client = HttpClient.newHttpClient();
    private final LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
    private java.net.http.WebSocket socket;

    @AfterEach
    void tearDown()
    {
        if (socket != null)
        {
            socket.abort();
        }
        CloseHelper.quietCloseAll(server, plane);
        client.close();
    }

    private void start(final NgContext ng)
    {
        plane = new MediaPlane(TestContexts.media(dir).portRange(20600, 20699));
        ng.listenWs("127.0.0.1:0").conclude();
        server = new NgWebSocketServer(ng, new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
    }

    /** Collects whole messages, text or binary, as ISO-8859-1 text (bencode is bytes). */
    private final class Collector implements Listener
    {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(final java.net.http.WebSocket ws, final CharSequence data, final boolean last)
        {
            return collect(ws, data.toString(), last);
        }

        @Override
        public CompletionStage<?> onBinary(final java.net.http.WebSocket ws, final ByteBuffer data, final boolean last)
        {
            final byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            return collect(ws, new String(bytes, StandardCharsets.ISO_8859_1), last);
        }

        @Override
        public CompletionStage<?> onPong(final java.net.http.WebSocket ws, final ByteBuffer message)
        {
            received.add("PONG");
            ws.request(1);
            return null;
        }

        private CompletionStage<?> collect(final java.net.http.WebSocket ws, final String data, final boolean last)
        {
            partial.append(data);
            if (last)
            {
                received.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }
    }

    private void connect() throws Exception
    {
        socket = client.newWebSocketBuilder().subprotocols(NgWebSocketServer.SUBPROTOCOL)
            .connectTimeout(Duration.ofSeconds(3))
            .buildAsync(URI.create("ws://127.0.0.1:" + server.localAddress().getPort() + "/ng"), new Collector())
            .get(5, TimeUnit.SECONDS);
    }

    private String next() throws InterruptedException
    {
        final String message = received.poll(5, TimeUnit.SECONDS);
        assertTrue(message != null, "no reply");
        return message;
    }

    private static String offer(final String callId)
    {
        final Map<String, Object> offer = new LinkedHashMap<>();
        offer.put("command", "offer");
        offer.put("call-id", callId);
        offer.put("from-tag", "a");
        offer.put("sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
            "m=audio 4000 RTP/AVP 0\r\n");
        return new String(Bencode.encode(offer), StandardCharsets.ISO_8859_1);
    }

    @Test
    void ngMessagesOverTextAndBinaryFramesInBothEncodings() throws Exception
    {
        start(new NgContext());
        connect();
        assertEquals(NgWebSocketServer.SUBPROTOCOL, socket.getSubprotocol());

        socket.sendText("c1 d7:command4:pinge", true).get(5, TimeUnit.SECONDS);
        assertEquals("c1 d6:result4:ponge", next());

        socket.sendBinary(ByteBuffer.wrap(("c2 " + offer("ws-call")).getBytes(StandardCharsets.ISO_8859_1)), true)
            .get(5, TimeUnit.SECONDS);
        final String offered = next();
        assertTrue(offered.startsWith("c2 d") && offered.contains("6:result2:ok"), offered);
        assertEquals(1, plane.registry().callCount());

        // A message split over two frames, in JSON.
        socket.sendText("c3 {\"command\":\"que", false).get(5, TimeUnit.SECONDS);
        socket.sendText("ry\",\"call-id\":\"ws-call\"}", true).get(5, TimeUnit.SECONDS);
        final String queried = next();
        assertTrue(queried.startsWith("c3 {") && queried.contains("\"result\":\"ok\""), queried);

        socket.sendPing(ByteBuffer.wrap(new byte[] {1, 2})).get(5, TimeUnit.SECONDS);
        assertEquals("PONG", next());

        socket.sendText("no-cookie", true).get(5, TimeUnit.SECONDS);
        assertTrue(next().contains("error"));
        socket.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    }

    /** Raw HTTP through a plain socket: the status line and everything after it. */
    private String raw(final byte[] request) throws Exception
    {
        try (Socket raw = new Socket("127.0.0.1", server.localAddress().getPort()))
        {
            raw.setSoTimeout(5000);
            final OutputStream out = raw.getOutputStream();
            out.write(request);
            out.flush();
            final InputStream in = raw.getInputStream();
            final ByteArrayOutputStream seen = new ByteArrayOutputStream();
            final byte[] buffer = new byte[4096];
            int read;
            while ((read = in.read(buffer)) > 0)
            {
                seen.write(buffer, 0, read);
            }
            return seen.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aBadHandshakeGetsABadRequestAndAnUnmaskedFrameAProtocolErrorClose() throws Exception
    {
        start(new NgContext());
        assertTrue(raw("GET /ng HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1))
            .startsWith("HTTP/1.1 400"));
        assertTrue(raw(("GET /ng HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 400"), "no ng subprotocol offered");

        final byte[] upgrade = ("GET /ng HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        final byte[] unmasked = {(byte)0x81, 0x02, 'h', 'i'};
        final byte[] both = new byte[upgrade.length + unmasked.length];
        System.arraycopy(upgrade, 0, both, 0, upgrade.length);
        System.arraycopy(unmasked, 0, both, upgrade.length, unmasked.length);
        final String reply = raw(both);
        assertTrue(reply.startsWith("HTTP/1.1 101") && reply.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), reply);
        assertTrue(reply.endsWith(new String(new byte[] {(byte)0x88, 2, 0x03, (byte)0xEA}, StandardCharsets.ISO_8859_1)),
            "closed with 1002 protocol error");
        assertEquals(3, plane.counters().ngMalformed.get());
    }

    /**
     * Issue 17, item 10: a browser always sends Origin; a page from anywhere not allowed must not drive the media
     * plane through its visitor's browser (cross-site WebSocket hijacking). Clients without Origin are unaffected.
     */
    @Test
    void aBrowserHandshakeFromAnOriginNotAllowedIsRefused() throws Exception
    {
        start(new NgContext().allowWsOrigin("https://ops.example.net"));
        final String handshake = "GET /ng HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        final String refused = raw((handshake + "Origin: https://evil.example\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(refused.startsWith("HTTP/1.1 403") && refused.contains("origin https://evil.example"), refused);
        assertEquals(1, plane.counters().ngSourceRefused.get());
        // an unmasked frame after the handshake makes the server close, so the whole exchange can be read
        final String close = new String(new byte[] {(byte)0x81, 0x02, 'h', 'i'}, StandardCharsets.ISO_8859_1);
        assertTrue(raw((handshake + "Origin: https://ops.example.net\r\n\r\n" + close).getBytes(StandardCharsets.ISO_8859_1))
            .startsWith("HTTP/1.1 101"), "the allowed origin");
        assertTrue(raw((handshake + "\r\n" + close).getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 101"),
            "no Origin: not a browser");
        assertTrue(raw((handshake + "Host: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n\r\n" + close)
            .getBytes(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 101"), "the listener's own origin (as lwsc sends)");
    }

    @Test
    void aSourceOutsideTheAccessListIsDropped() throws Exception
    {
        start(new NgContext().allow("192.0.2.0/24"));
        final CompletableFuture<java.net.http.WebSocket> attempt = client.newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + server.localAddress().getPort() + "/ng"), new Collector());
        assertTrue(assertFails(attempt), "the connection is closed before the handshake");
        assertTrue(plane.counters().ngSourceRefused.get() >= 1, "counted (the client may have tried more than once)");
        assertEquals(0, plane.registry().callCount());
    }

    private static boolean assertFails(final CompletableFuture<?> future)
    {
        try
        {
            future.get(5, TimeUnit.SECONDS);
            return false;
        }
        catch (final Exception expected)
        {
            return true;
        }
    }
}
