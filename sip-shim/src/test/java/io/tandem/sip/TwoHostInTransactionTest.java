package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The talk's cases 3 to 5 on two hosts, in network namespaces: a caller's and a callee's host, node A and node B,
 * each running the SIP shim as a process on the VIP with its call info journaled to the other, as a SIP-only node
 * runs (no media). The INVITE and its 180 pass A; then A's host dies (SIGKILL, link down), B takes the VIP with a
 * gratuitous ARP and keepalived's shipped notify script promotes B's shim (TANDEM_NG=none). What the call does next
 * passes B, which never saw the INVITE's transaction: case 3, the 200 by its Via, ACK and BYE by loose routing;
 * case 4, the 486 and its ACK; case 5, the caller's CANCEL (with the INVITE's branch at the callee), the 487 and its
 * ACK. With the failover handling off, cases 4 and 5 fail, as the talk says.
 */
class TwoHostInTransactionTest
{
    private final NetnsHosts hosts = new NetnsHosts();
    private final SipProcesses processes = new SipProcesses();
    private Path work;

    @BeforeEach
    void setUp() throws IOException
    {
        work = NetnsHosts.workDirectory("two-host-in-transaction-");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        hosts.close();
    }

    private Process shim(final String ns, final String name, final String self, final String peer, final boolean active,
        final boolean failoverHandling) throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("--listen", NetnsHosts.VIP + ":5060", "--route",
            NetnsHosts.CALLEE + ":5060", "--listen-control", "127.0.0.1:2224", "--role", active ? "active" : "standby",
            "--journal-listen", self + ":7500", "--journal-peer", peer + ":7500",
            "--state-dir", work.resolve(name + "-state").toString(), "--warm-up-calls", NetnsHosts.WARM_UP_CALLS));
        if (!failoverHandling)
        {
            args.add("--no-failover-handling");
        }
        return processes.start(work.resolve(name + "-sip.log"), work,
            NetnsHosts.in(ns, SipProcesses.java(Main.class, args.toArray(String[]::new))));
    }

    private String status(final String ns) throws Exception
    {
        return NetnsHosts.tandemctl(ns, "127.0.0.1:2224", "status");
    }

    private void await(final String ns, final String expected) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String now;
        while (!(now = status(ns)).equals(expected))
        {
            assertTrue(System.nanoTime() - deadline < 0, ns + " never said '" + expected + "', last '" + now + "'");
            Thread.sleep(50);
        }
    }


    /** One call of a scenario pair, A's host dying while it rings. @return {uac, uas} exit codes (-1: still waiting) */
    private int[] callWithFailover(final String scenario, final boolean failoverHandling) throws Exception
    {
        NetnsHosts.need();
        hosts.create();
        for (final String side : List.of("uac-", "uas-"))
        {
            Files.copy(Path.of("src/test/resources/sipp/" + side + scenario + ".xml"),
                work.resolve(side + scenario + ".xml"));
        }
        final Process nodeA = shim(hosts.nodeA, "a", NetnsHosts.A, NetnsHosts.B, true, failoverHandling);
        shim(hosts.nodeB, "b", NetnsHosts.B, NetnsHosts.A, false, failoverHandling);
        await(hosts.nodeA, "role active, calls 0");
        await(hosts.nodeB, "role standby, calls 0");
        final Process uas = processes.start(work.resolve("uas.log"), work, NetnsHosts.in(hosts.callee, List.of(
            "timeout", "40", "sipp", "-sf", "uas-" + scenario + ".xml", "-i", NetnsHosts.CALLEE, "-p", "5060", "-m", "1",
            "-nostdin", "-trace_msg", "-message_file", work.resolve("uas-messages.log").toString())));
        Thread.sleep(300);
        final Process uac = processes.start(work.resolve("uac.log"), work, NetnsHosts.in(hosts.caller, List.of(
            "timeout", "40", "sipp", NetnsHosts.VIP + ":5060", "-sf", "uac-" + scenario + ".xml", "-i",
            NetnsHosts.CALLER, "-p", "5060", "-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin", "-trace_msg",
            "-message_file", work.resolve("uac-messages.log").toString())));
        SipProcesses.awaitText(work, "uac-messages.log", "SIP/2.0 180 Ringing", 10); // A relayed it
        await(hosts.nodeB, "role standby, calls 1"); // B holds the call's info from A's journal

        // A's host dies within the 3 s the scenarios ring; B takes the VIP and keepalived's notify promotes its shim
        SipProcesses.kill(nodeA);
        hosts.moveVip();
        final String notify = hosts.notifyMaster(work, Map.of("TANDEM_NG", "none",
            "TANDEM_SIP_CONTROL", "127.0.0.1:2224"));
        assertTrue(notify.startsWith("0 ") && notify.contains("127.0.0.1:2224 is now active"), notify);

        assertTrue(uac.waitFor(35, TimeUnit.SECONDS), "SIPp UAC did not finish" + logs());
        if (!uas.waitFor(failoverHandling ? 20 : 8, TimeUnit.SECONDS))
        {
            SipProcesses.kill(uas);
            return new int[] {uac.exitValue(), -1};
        }
        return new int[] {uac.exitValue(), uas.exitValue()};
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"answer", "busy", "cancel"})
    void whatFollowsTheRingingPassesTheNodeThatTookTheVip(final String scenario) throws Exception
    {
        assertArrayEquals(new int[] {0, 0}, callWithFailover(scenario, true), "caller and callee complete" + logs());
        final String callee = SipProcesses.log(work, "uas-messages.log");
        if (scenario.equals("cancel"))
        {
            final String invite = branch(callee, "INVITE");
            assertEquals(invite, branch(callee, "CANCEL"), "the CANCEL B relayed carries the branch A gave the INVITE");
            assertEquals(invite, branch(callee, "ACK"), "and so does the ACK for the 487");
        }
        else if (scenario.equals("busy"))
        {
            assertEquals(branch(callee, "INVITE"), branch(callee, "ACK"), "the 486's ACK, hop by hop, A's branch");
        }
        else
        {
            assertTrue(callee.contains("BYE sip:"), "the BYE reached the callee through B" + logs());
        }
    }

    @Test
    void withoutFailoverHandlingTheCancelAfterTheMoveIsLost() throws Exception
    {
        assertNotEquals(0, callWithFailover("cancel", false)[1], "the callee never hears the CANCEL" + logs());
    }

    @Test
    void withoutFailoverHandlingTheBusyAcksAfterTheMoveIsLost() throws Exception
    {
        assertNotEquals(0, callWithFailover("busy", false)[1], "the callee never gets the 486's ACK" + logs());
    }

    /** The top Via branch of the first {@code method} request in a SIPp message log. */
    private static String branch(final String messages, final String method)
    {
        final Matcher m = Pattern.compile("(?m)^" + method + " sip:\\S+ SIP/2\\.0\\s*$[\\s\\S]*?^Via: [^\\n]*;branch=([^;\\s]+)")
            .matcher(messages);
        assertTrue(m.find(), "a " + method + " at the callee:\n" + messages);
        return m.group(1);
    }

    private String logs() throws IOException
    {
        final StringBuilder text = new StringBuilder();
        for (final String name : List.of("uac-messages.log", "uas-messages.log", "uas.log", "a-sip.log", "b-sip.log"))
        {
            final String log = SipProcesses.log(work, name);
            text.append("\n--- ").append(name).append(":\n")
                .append(log.length() > 3000 ? log.substring(log.length() - 3000) : log);
        }
        return text.toString();
    }
}
