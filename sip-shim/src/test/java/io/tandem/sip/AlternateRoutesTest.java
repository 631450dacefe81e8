package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rule's destinations tried in order, with real SIPp: a first destination that answers 503, or that stays silent
 * past the route timeout, hands each call to the next one, and the caller sees only the call that worked.
 */
class AlternateRoutesTest
{
    private static final int CALLS = 20;
    private static final int SHIM_PORT = 25460;
    private static final int FIRST_PORT = 25490;
    private static final int NEXT_PORT = 25491;

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

    private Process sipp(final String name, final List<String> args) throws Exception
    {
        return processes.sipp(dir, name, args);
    }

    private void scenarios(final String... names) throws Exception
    {
        SipProcesses.scenarios(dir, names);
    }

    private SipShim shim(final long routeTimeoutMs) throws Exception
    {
        final Path routes = dir.resolve("routes.conf");
        Files.writeString(routes, "route * 127.0.0.1:" + FIRST_PORT + " 127.0.0.1:" + NEXT_PORT + "\n");
        return new SipShim(new SipContext().listen("127.0.0.1:" + SHIM_PORT).routes(routes.toString())
            .routeTimeoutMs(routeTimeoutMs).conclude());
    }

    private Process callers() throws Exception
    {
        return sipp("uac", List.of("127.0.0.1:" + SHIM_PORT, "-sf", "uac-basic.xml", "-i", "127.0.0.1", "-p", "25470",
            "-mp", "27800", "-m", Integer.toString(CALLS), "-r", "20", "-timeout", "40s", "-timeout_error"));
    }

    private String log(final String name) throws Exception
    {
        return SipProcesses.log(dir, name);
    }

    @Test
    void aDestinationAnswering503HandsEachCallToTheNext() throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        scenarios("uac-basic.xml", "uas-basic.xml", "uas-unavailable.xml");
        shim = shim(3_000);
        final Process first = sipp("first", List.of("-sf", "uas-unavailable.xml", "-i", "127.0.0.1", "-p",
            Integer.toString(FIRST_PORT), "-mp", "27900", "-m", Integer.toString(CALLS)));
        final Process next = sipp("next", List.of("-sf", "uas-basic.xml", "-i", "127.0.0.1", "-p",
            Integer.toString(NEXT_PORT), "-mp", "28000", "-m", Integer.toString(CALLS)));
        Thread.sleep(300);
        final Process uac = callers();
        assertTrue(uac.waitFor(50, TimeUnit.SECONDS), "SIPp UAC did not finish");
        assertEquals(0, uac.exitValue(), "every call set up through the next destination\n" + log("uac-messages.log"));
        assertTrue(first.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, first.exitValue(), "the first got each INVITE and the ACK for its 503\n" + log("first.log"));
        assertTrue(next.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, next.exitValue(), "the next got each call to its BYE\n" + log("next.log"));
        assertEquals(CALLS, shim.alternates());
        assertTrue(!log("uac-messages.log").contains("SIP/2.0 503"), "the caller never saw the 503");
    }

    @Test
    void aSilentDestinationHandsEachCallToTheNextAfterTheRouteTimeout() throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        scenarios("uac-basic.xml", "uas-basic.xml");
        shim = shim(300);
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", FIRST_PORT)))
        {
            final Process next = sipp("next", List.of("-sf", "uas-basic.xml", "-i", "127.0.0.1", "-p",
                Integer.toString(NEXT_PORT), "-mp", "28000", "-m", Integer.toString(CALLS)));
            Thread.sleep(300);
            final Process uac = callers();
            assertTrue(uac.waitFor(50, TimeUnit.SECONDS), "SIPp UAC did not finish");
            assertEquals(0, uac.exitValue(), "every call set up through the next destination\n" +
                log("uac-messages.log"));
            assertTrue(next.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, next.exitValue(), log("next.log"));
            assertEquals(CALLS, shim.alternates());
            assertTrue(silent.isBound());
        }
    }
}
