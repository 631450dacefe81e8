package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
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

/** The HTTP interface: ng over POST /ng in both encodings, Prometheus metrics, ping, and what it refuses. */
class NgHttpServerTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private NgHttpServer server;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(server, plane);
        client.close();
    }

    private void start(final NgContext ng)
    {
        plane = new MediaPlane(TestContexts.media(dir).portRange(20500, 20599));
        ng.listenHttp("127.0.0.1:0").conclude();
        server = new NgHttpServer(ng, new NgCommands(plane.registry(), 0, plane.context().maxCalls(), plane.context().deleteDelayNs()), plane.counters());
    }

    private URI uri(final String path)
    {
        return URI.create("http://127.0.0.1:" + server.localAddress().getPort() + path);
    }

    private HttpResponse<byte[]> post(final String path, final byte[] body) throws Exception
    {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5))
            .header("Content-Type", NgHttpServer.NG_CONTENT_TYPE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<String> get(final String path) throws Exception
    {
        return client.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] bencoded(final String cookie, final Map<String, Object> request)
    {
        final byte[] body = Bencode.encode(request);
        final byte[] prefix = (cookie + " ").getBytes(StandardCharsets.ISO_8859_1);
        final byte[] out = Arrays.copyOf(prefix, prefix.length + body.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        return out;
    }

    /** The dictionary of a reply in the datagram format, after checking its cookie. */
    private static Map<?, ?> dictionary(final String cookie, final byte[] reply) throws Exception
    {
        final String prefix = cookie + " ";
        assertEquals(prefix, new String(reply, 0, prefix.length(), StandardCharsets.ISO_8859_1));
        return (Map<?, ?>)Bencode.decode(reply, prefix.length(), reply.length - prefix.length());
    }

    private static Map<String, Object> offer(final String callId)
    {
        final Map<String, Object> offer = new LinkedHashMap<>();
        offer.put("command", "offer");
        offer.put("call-id", callId);
        offer.put("from-tag", "a");
        offer.put("sdp", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
            "m=audio 4000 RTP/AVP 0\r\n");
        return offer;
    }

    @Test
    void ngOverHttpInBencodeAndJson() throws Exception
    {
        start(new NgContext());
        final HttpResponse<byte[]> pong = post("/ng", bencoded("c1", Map.of("command", "ping")));
        assertEquals(200, pong.statusCode());
        assertEquals(NgHttpServer.NG_CONTENT_TYPE, pong.headers().firstValue("Content-Type").orElse(""));
        assertEquals("pong", String.valueOf(dictionary("c1", pong.body()).get("result")));

        final Map<?, ?> offered = dictionary("c2", post("/ng", bencoded("c2", offer("http-call"))).body());
        assertEquals("ok", String.valueOf(offered.get("result")));
        assertEquals(1, plane.registry().callCount());

        final HttpResponse<byte[]> json = post("/ng", "c3 {\"command\":\"query\",\"call-id\":\"http-call\"}"
            .getBytes(StandardCharsets.UTF_8));
        final String text = new String(json.body(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("c3 {") && text.contains("\"result\":\"ok\""), text);
    }

    @Test
    void malformedMessagesGetAnErrorOrABadRequestAndAreCounted() throws Exception
    {
        start(new NgContext());
        final Map<?, ?> error = dictionary("c1", post("/ng", "c1 d7:command".getBytes(StandardCharsets.UTF_8)).body());
        assertEquals("error", String.valueOf(error.get("result")));
        assertEquals(400, post("/ng", "no-cookie-at-all".getBytes(StandardCharsets.UTF_8)).statusCode());
        final byte[] huge = new byte[NgServer.MAX_MESSAGE + 10];
        Arrays.fill(huge, (byte)'x');
        huge[2] = ' ';
        final Map<?, ?> tooLong = dictionary("xx", post("/ng", huge).body());
        assertEquals("Message too long", String.valueOf(tooLong.get("error-reason")));
        assertEquals(3, plane.counters().ngMalformed.get());
        assertEquals(405, get("/ng").statusCode());
        assertEquals(404, get("/metrics/more").statusCode());
    }

    @Test
    void metricsAndPing() throws Exception
    {
        start(new NgContext());
        post("/ng", bencoded("c1", Map.of("command", "ping")));
        post("/ng", bencoded("c2", offer("metered")));
        assertEquals("pong", get("/ping").body());
        final HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        final List<String> lines = metrics.body().lines().toList();
        assertTrue(lines.contains("# TYPE tandem_ng_requests_total counter"), metrics.body());
        assertTrue(lines.contains("tandem_ng_requests_total 2"), metrics.body());
        assertTrue(lines.contains("# TYPE tandem_calls gauge"), metrics.body());
        assertTrue(lines.contains("tandem_calls 1"), metrics.body());
        assertTrue(lines.contains("tandem_dropped_packets_total{reason=\"wrong_source\"} 0"), metrics.body());
        // One offered call: an RTP and an RTCP port for each of its two parties, on the one interface.
        assertTrue(lines.contains("tandem_interface_ports_in_use{interface=\"default\"} 4"), metrics.body());
        assertTrue(lines.contains("tandem_ports_in_use 4"), metrics.body());
        assertTrue(lines.contains("tandem_interface_ports{interface=\"default\"} 100"), metrics.body());
        assertEquals(1, lines.stream().filter((l) -> l.equals("# TYPE tandem_dropped_packets_total counter")).count(),
            "one TYPE line per family");
    }

    @Test
    void ngFromASourceOutsideTheAccessListIsRefusedButMetricsAreServed() throws Exception
    {
        start(new NgContext().allow("192.0.2.0/24"));
        assertEquals(403, post("/ng", bencoded("c1", Map.of("command", "ping"))).statusCode());
        assertEquals(1, plane.counters().ngSourceRefused.get());
        assertEquals(0, plane.registry().callCount());
        assertEquals(200, get("/metrics").statusCode());
    }

    private java.net.Socket raw() throws Exception
    {
        final java.net.Socket socket = new java.net.Socket(server.localAddress().getAddress(), server.localAddress().getPort());
        socket.setSoTimeout(5_000);
        return socket;
    }

    private static String readAll(final java.net.Socket socket) throws Exception
    {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private static void awaitCount(final org.agrona.concurrent.status.AtomicCounter counter, final long value)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + 3_000_000_000L;
        while (counter.get() != value && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(1);
        }
        assertEquals(value, counter.get());
    }

    /**
     * Issue 17, item 10: a client that begins a request and never completes it (slowloris: a head cut short, or a
     * body shorter than its Content-Length) loses its connection once the partial-message timeout passes, counted.
     */
    @Test
    void aRequestBegunMustCompleteInTime() throws Exception
    {
        start(new NgContext().partialMessageTimeoutMs(200));
        try (java.net.Socket head = raw(); java.net.Socket body = raw())
        {
            head.getOutputStream().write("POST /ng HTTP/1.1\r\nHost: x\r\nContent-".getBytes(StandardCharsets.ISO_8859_1));
            body.getOutputStream().write(("POST /ng HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nc1 d7:com")
                .getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(-1, head.getInputStream().read(), "closed once the head did not complete in time");
            assertEquals(-1, body.getInputStream().read(), "closed once the body did not complete in time");
        }
        awaitCount(plane.counters().ngConnectionsTimedOut, 2);
    }

    /** Issue 17, item 10: a listener holds at most --ng-max-connections; more are closed at once and counted. */
    @Test
    void connectionsBeyondTheMaximumAreClosedAndCounted() throws Exception
    {
        start(new NgContext().maxConnections(2));
        try (java.net.Socket first = raw(); java.net.Socket second = raw(); java.net.Socket third = raw())
        {
            assertEquals(-1, third.getInputStream().read(), "the third connection is closed at once");
            assertEquals(1, plane.counters().ngConnectionsRefused.get());
            second.getOutputStream().write("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readAll(second).endsWith("\r\n\r\npong"), "the connections within the maximum are served");
        }
    }

    /**
     * Keep-alive: requests on one connection, pipelined, are each answered in order; the connection is closed once
     * it idles past the HTTP idle timeout (not counted as a slow request).
     */
    @Test
    void keepAliveConnectionsServeSeveralRequestsAndCloseWhenIdle() throws Exception
    {
        start(new NgContext().httpIdleTimeoutMs(300));
        try (java.net.Socket socket = raw())
        {
            final byte[] ping = bencoded("k1", Map.of("command", "ping"));
            final String requests = "POST /ng HTTP/1.1\r\nHost: x\r\nContent-Length: " + ping.length + "\r\n\r\n" +
                new String(ping, StandardCharsets.ISO_8859_1) + "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
            socket.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
            final long start = System.nanoTime();
            final String replies = readAll(socket); // both replies, then the close after the idle timeout
            assertTrue(System.nanoTime() - start >= 250_000_000L, "kept open while idle within the timeout");
            assertEquals(2, replies.split("HTTP/1.1 200 OK", -1).length - 1, replies);
            assertTrue(replies.contains("k1 d6:result4:ponge") && replies.endsWith("pong"), replies);
        }
        assertEquals(0, plane.counters().ngConnectionsTimedOut.get());
    }

    /** Heads over the limit get 431, chunked bodies 411: counted as malformed, the connection closed. */
    @Test
    void oversizedHeadsAndChunkedBodiesAreRefused() throws Exception
    {
        start(new NgContext());
        try (java.net.Socket big = raw(); java.net.Socket chunked = raw())
        {
            big.getOutputStream().write(("GET /ping HTTP/1.1\r\nX-Filler: " + "y".repeat(io.tandem.ng.HttpListener.MAX_HEAD))
                .getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readAll(big).startsWith("HTTP/1.1 431 "));
            chunked.getOutputStream().write(("POST /ng HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                "5\r\nhello\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(readAll(chunked).startsWith("HTTP/1.1 411 "));
        }
        assertEquals(2, plane.counters().ngMalformed.get());
    }

    /** Issue 17, item 10: a metrics listener for a monitoring network serves /metrics and /ping, never /ng. */
    @Test
    void theMetricsListenerHasNoNg() throws Exception
    {
        start(new NgContext());
        try (NgHttpServer metrics = new NgHttpServer(new NgContext().conclude(), new NgCommands(plane.registry(), 0,
            plane.context().maxCalls(), 0), plane.counters(), new java.net.InetSocketAddress("127.0.0.1", 0), false))
        {
            final URI base = URI.create("http://127.0.0.1:" + metrics.localAddress().getPort());
            assertEquals(200, client.send(HttpRequest.newBuilder(base.resolve("/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals("pong", client.send(HttpRequest.newBuilder(base.resolve("/ping")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body());
            final HttpResponse<String> ng = client.send(HttpRequest.newBuilder(base.resolve("/ng"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bencoded("m1", Map.of("command", "ping")))).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(404, ng.statusCode(), "from an allowed source too");
            assertEquals(0, plane.counters().ngRequests.get());
        }
    }
}
