package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.tandem.ng.NgClient;

/**
 * Calls through the shim with their media through a real Tandem media plane over ng, as Kamailio would drive it:
 * Tandem runs as its own process (the shim never links the media plane; any rtpengine-compatible node would do).
 * Each INVITE's SDP reaches the callee pointing at Tandem, each 200's reaches the caller pointing at Tandem, and
 * every call is gone from Tandem once its BYE passed.
 */
class MediaThroughNgTest
{
    private static final int CALLS = 20;
    private static final int NG_PORT = 25223;
    private static final int MEDIA_MIN = 26000;
    private static final int MEDIA_MAX = 26999;

    @TempDir
    Path dir;

    private final SipProcesses processes = new SipProcesses();
    private SipShim shim;

    @AfterEach
    void tearDown() throws Exception
    {
        if (shim != null)
        {
            shim.close();
        }
        processes.close();
    }

    private String log(final String name) throws IOException
    {
        return SipProcesses.log(dir, name);
    }

    private void awaitText(final String name, final String text) throws Exception
    {
        SipProcesses.awaitText(dir, name, text, 60);
    }

    @Test
    void callsGetTheirMediaThroughTheMediaNodeAndEndThereWithTheirBye() throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        processes.start(dir.resolve("tandem.log"), dir, SipProcesses.mediaPlane("--listen-ng", "127.0.0.1:" + NG_PORT,
            "--ports", MEDIA_MIN + "-" + MEDIA_MAX, "--timeout", "0", "--sessions", dir.resolve("sessions.cm3").toString(),
            "--counters", dir.resolve("counters.dat").toString()));
        awaitText("tandem.log", "tandem: running");
        final int shimPort = 25260;
        final int uasPort = 25290;
        shim = new SipShim(new SipContext().listen("127.0.0.1:" + shimPort).route("127.0.0.1:" + uasPort)
            .mediaNode("127.0.0.1:" + NG_PORT).conclude());
        for (final String scenario : List.of("uac-basic.xml", "uas-basic.xml"))
        {
            Files.copy(Path.of("src/test/resources/sipp/" + scenario), dir.resolve(scenario));
        }
        processes.start(dir.resolve("uas.log"), dir, List.of("timeout", "120", "sipp", "-sf", "uas-basic.xml",
            "-i", "127.0.0.1", "-p", Integer.toString(uasPort), "-mp", "27600", "-nostdin", "-trace_msg",
            "-message_file", dir.resolve("uas-messages.log").toString()));
        Thread.sleep(500);
        final Process uac = processes.start(dir.resolve("uac.log"), dir, List.of("timeout", "90", "sipp",
            "127.0.0.1:" + shimPort, "-sf", "uac-basic.xml", "-i", "127.0.0.1", "-p", "25270", "-mp", "27700",
            "-m", Integer.toString(CALLS), "-r", "10", "-timeout", "60s", "-timeout_error", "-nostdin", "-trace_msg",
            "-message_file", dir.resolve("uac-messages.log").toString()));
        assertTrue(uac.waitFor(100, TimeUnit.SECONDS), "SIPp UAC did not finish");
        assertEquals(0, uac.exitValue(), "every call must succeed:\nUAC:\n" + log("uac-messages.log") + "\nTandem:\n" +
            log("tandem.log"));

        final List<Integer> calleeSees = SipProcesses.audioPorts(log("uas-messages.log"), "INVITE sip:");
        final List<Integer> callerSees = SipProcesses.audioPorts(log("uac-messages.log"), "SIP/2.0 200 OK");
        assertEquals(CALLS, calleeSees.size(), log("uas-messages.log"));
        assertTrue(callerSees.size() >= CALLS, log("uac-messages.log"));
        for (final int port : Stream.concat(calleeSees.stream(), callerSees.stream()).toList())
        {
            assertTrue(port >= MEDIA_MIN && port <= MEDIA_MAX, "SDP points at port " + port + ", not at Tandem");
        }
        try (NgClient ng = new NgClient(new InetSocketAddress("127.0.0.1", NG_PORT)))
        {
            final Map<String, Object> list = ng.request(Map.of("command", "list"));
            assertEquals(List.of(), list.get("calls"), "every call deleted with its BYE");
        }
    }
}
