package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.sip.message.Request;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The talk's first two cases on one node, with real SIPp: calls (INVITE, 100, 180, 200, ACK, BYE, 200) from a
 * caller through the shim to a callee. The shim record-routes, so ACK and BYE come back through it by loose
 * routing and leave by the callee's Contact.
 */
class BasicCallTest
{
    private static final int CALLS = 50;

    @TempDir
    Path dir;

    private final SipProcesses processes = new SipProcesses();
    private SipShim shim;

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        if (shim != null)
        {
            shim.close();
        }
    }

    private String log(final String name) throws IOException
    {
        return SipProcesses.log(dir, name);
    }

    @Test
    void callsThroughTheShimCompleteAndInDialogRequestsFollowTheRecordRoute() throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        final int shimPort = 25060;
        final int uasPort = 25090;
        final int uacPort = 25070;
        shim = new SipShim(new SipContext().listen("127.0.0.1:" + shimPort).route("127.0.0.1:" + uasPort).conclude());
        for (final String scenario : List.of("uac-basic.xml", "uas-basic.xml"))
        {
            Files.copy(Path.of("src/test/resources/sipp/" + scenario), dir.resolve(scenario));
        }
        processes.start(dir.resolve("uas.log"), dir, List.of("timeout", "120", "sipp", "-sf", "uas-basic.xml",
            "-i", "127.0.0.1", "-p", Integer.toString(uasPort), "-nostdin", "-trace_msg", "-message_file",
            dir.resolve("uas-messages.log").toString()));
        Thread.sleep(500); // SIPp binds at once; a lost first INVITE would be retransmitted anyway
        final Process uac = processes.start(dir.resolve("uac.log"), dir, List.of("timeout", "90", "sipp",
            "127.0.0.1:" + shimPort, "-sf", "uac-basic.xml", "-i", "127.0.0.1", "-p", Integer.toString(uacPort),
            "-m", Integer.toString(CALLS), "-r", "20", "-timeout", "60s", "-timeout_error", "-nostdin", "-trace_msg",
            "-message_file", dir.resolve("uac-messages.log").toString(), "-trace_err", "-error_file",
            dir.resolve("uac-errors.log").toString()));
        assertTrue(uac.waitFor(100, TimeUnit.SECONDS), "SIPp UAC did not finish");
        assertEquals(0, uac.exitValue(), "every call must succeed; UAC errors:\n" + log("uac-errors.log") +
            "\nUAC messages:\n" + log("uac-messages.log") + "\nUAS messages:\n" + log("uas-messages.log"));

        assertEquals(CALLS, shim.relayed(Request.INVITE));
        assertEquals(CALLS, shim.relayed(Request.ACK), "each ACK for a 200 came back through the shim");
        assertEquals(CALLS, shim.relayed(Request.BYE), "each BYE came back through the shim");
        final String callee = log("uas-messages.log");
        assertTrue(callee.contains("Record-Route: <sip:127.0.0.1:" + shimPort + ";lr>"), callee);
        assertEquals(0, shim.relayedWithoutTransaction(), "no failover here");
        try (ShimMetrics metrics = new ShimMetrics(shim, new InetSocketAddress("127.0.0.1", 0), () -> 0))
        {
            final String scraped = ShimMetricsTest.get(metrics.localAddress(), "/metrics");
            for (final String method : List.of(Request.INVITE, Request.ACK, Request.BYE))
            {
                assertTrue(scraped.contains("tandem_sip_relayed_total{method=\"" + method + "\"} " + CALLS + "\n"),
                    "Prometheus sees what the shim relayed:\n" + scraped);
            }
        }
    }
}
