package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;


/**
 * The shim's /metrics as Prometheus scrapes it, for a pair of shims whose call info is journaled: its own counters
 * and its journal's, each with HELP and TYPE, the role of each node; and what the listener does with requests it
 * does not serve (the ng module's HTTP reader, so the media plane's limits hold here too).
 */
class ShimMetricsTest
{
    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(closing.reversed());
    }

    private ShimMetrics node(final String name, final int sipPort, final String journal, final String peer,
        final boolean active) throws Exception
    {
        final SipShim shim = JournaledShims.shim(dir, closing, name, sipPort, journal, peer, active);
        final ShimMetrics metrics = new ShimMetrics(shim, new InetSocketAddress("127.0.0.1", 0), () -> 7);
        closing.add(metrics);
        return metrics;
    }

    /** One request on a connection of its own; the whole response as text. */
    static String http(final InetSocketAddress to, final String request) throws IOException
    {
        try (Socket socket = new Socket(to.getAddress(), to.getPort()))
        {
            socket.setSoTimeout(5_000);
            final OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            final InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static String get(final InetSocketAddress to, final String path) throws IOException
    {
        return http(to, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }

    private static long metric(final String text, final String name)
    {
        return text.lines().filter((line) -> line.startsWith(name + " ")).findFirst()
            .map((line) -> Long.parseLong(line.substring(name.length() + 1))).orElse(-1L);
    }

    @Test
    void metricsShowTheShimsCountersAndItsJournalsForEachNodeOfAPair() throws Exception
    {
        final ShimMetrics a = node("a", 25366, "127.0.0.1:40770", "127.0.0.1:40780", true);
        final ShimMetrics b = node("b", 25367, "127.0.0.1:40780", "127.0.0.1:40770", false);
        final String response = get(a.localAddress(), "/metrics");
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), response);
        final String text = response.substring(response.indexOf("\r\n\r\n") + 4);
        for (final String name : List.of("tandem_sip_calls", "tandem_sip_relayed_total",
            "tandem_sip_relayed_without_transaction_total", "tandem_sip_malformed_total", "tandem_journal_epoch",
            "tandem_journal_lag_records"))
        {
            assertTrue(text.contains("# HELP " + name + " "), name + " has help:\n" + text);
            assertTrue(text.contains("# TYPE " + name + " "), name + " has a type:\n" + text);
        }
        assertEquals(1, metric(text, "tandem_sip_role_active"));
        assertEquals(1, metric(text, "tandem_journal_active"));
        assertEquals(7, metric(text, "tandem_sip_control_errors_total"));
        assertEquals(0, metric(text, "tandem_sip_calls"));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String standby = get(b.localAddress(), "/metrics");
        while (metric(standby, "tandem_journal_snapshots_received_total") < 1 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(50);
            standby = get(b.localAddress(), "/metrics");
        }
        assertEquals(0, metric(standby, "tandem_sip_role_active"), "the standby says so");
        // one snapshot, or two when the first took longer than the mirror's retry (a loaded host)
        final long received = metric(standby, "tandem_journal_snapshots_received_total");
        assertTrue(received >= 1 && received <= 2, "resynced by snapshot: " + received);
        final long sent = metric(get(a.localAddress(), "/metrics"), "tandem_journal_snapshots_sent_total");
        assertTrue(sent >= 1 && sent <= 2, "the active served it: " + sent);
        assertTrue(get(a.localAddress(), "/ping").endsWith("\r\n\r\npong"));
    }

    @Test
    void requestsItDoesNotServeAreRefusedAndCounted() throws Exception
    {
        final ShimMetrics metrics = node("solo", 25368, "127.0.0.1:40790", "127.0.0.1:40791", true);
        final InetSocketAddress at = metrics.localAddress();
        assertTrue(get(at, "/ng").startsWith("HTTP/1.1 404 "), "no ng here");
        assertTrue(http(at, "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            .startsWith("HTTP/1.1 405 "));
        assertTrue(http(at, "POST /metrics HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + "x".repeat(5000))
            .startsWith("HTTP/1.1 413 "), "a body nobody asked for");
        assertTrue(http(at, "GET /metrics SIP/2.0\r\n\r\n").startsWith("HTTP/1.1 400 "));
        assertTrue(http(at, "POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").startsWith("HTTP/1.1 411 "));
        assertTrue(http(at, "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n").endsWith("\r\n\r\n"), "head only");
        assertEquals(3, metric(get(at, "/metrics"), "tandem_sip_metrics_malformed_total"));
    }
}
