package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim between a UDP side and a TCP side, with real SIPp on each: calls from a TCP caller to a UDP callee and
 * from a UDP caller to a TCP callee (the destination's {@code ;tcp}) are set up and ended, the BYE passing the
 * proxy by the double Record-Route each side reaches it by its own transport.
 */
class TransportConversionTest
{
    private static final int CALLS = 10;
    private static final int SHIM_PORT = 25560;
    private static final int UAS_PORT = 25590;

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

    /** @return the callee's message log */
    private String calls(final String callerTransport, final String calleeTransport) throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        SipProcesses.scenarios(dir, "uac-basic.xml", "uas-basic.xml");
        shim = new SipShim(new SipContext().listen("127.0.0.1:" + SHIM_PORT)
            .route("127.0.0.1:" + UAS_PORT + ";" + calleeTransport).conclude());
        final Process uas = sipp("uas", List.of("-sf", "uas-basic.xml", "-t", transport(calleeTransport), "-i",
            "127.0.0.1", "-p", Integer.toString(UAS_PORT), "-mp", "28100", "-m", Integer.toString(CALLS)));
        Thread.sleep(300);
        final Process uac = sipp("uac", List.of("127.0.0.1:" + SHIM_PORT, "-sf", "uac-basic.xml", "-t",
            transport(callerTransport), "-i", "127.0.0.1", "-p", "25570", "-mp", "28200", "-m", Integer.toString(CALLS),
            "-r", "10", "-timeout", "40s", "-timeout_error"));
        assertTrue(uac.waitFor(50, TimeUnit.SECONDS), "SIPp UAC did not finish");
        assertEquals(0, uac.exitValue(), "every call set up and ended\n" + SipProcesses.log(dir, "uac-messages.log") +
            SipProcesses.log(dir, "uac.log"));
        assertTrue(uas.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, uas.exitValue(), SipProcesses.log(dir, "uas.log"));
        assertEquals(CALLS, shim.relayed("BYE"), "every BYE passed the proxy");
        return SipProcesses.log(dir, "uas-messages.log");
    }

    private static String transport(final String name)
    {
        return name.equals("tcp") ? "t1" : "u1";
    }

    @Test
    void aTcpCallerReachesAUdpCallee() throws Exception
    {
        final String callee = calls("tcp", "udp");
        assertTrue(callee.contains("transport=tcp;lr>") || callee.contains("transport=tcp;lr"),
            "the caller's side of the double Record-Route names TCP\n" + callee);
        assertTrue(callee.contains("SIP/2.0/UDP 127.0.0.1:" + SHIM_PORT), "the INVITE reached the callee by UDP");
    }

    @Test
    void aUdpCallerReachesATcpCallee() throws Exception
    {
        final String callee = calls("udp", "tcp");
        assertTrue(callee.contains("SIP/2.0/TCP 127.0.0.1:" + SHIM_PORT), "the INVITE reached the callee by TCP\n" +
            callee);
    }
}
