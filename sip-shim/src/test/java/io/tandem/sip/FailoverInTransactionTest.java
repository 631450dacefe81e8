package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The talk's failover cases, with real SIPp: node A takes the INVITE and relays the 180 (case 2: the whole call
 * set-up); then the address both nodes serve (the VIP) passes to node B, which never saw the INVITE: A stops, B
 * binds it, as when keepalived moves the VIP to the standby (the two-host version with namespaces is still to
 * come). Case 2: the call is up when the VIP moves; its BYE passes B by loose routing.
 * Case 3: the callee answers 200; B relays it by its Via, and ACK and BYE pass B by loose routing.
 * Case 4: the callee answers 486; B relays it by its Via, and the caller's ACK for it reaches the callee through B.
 * Case 5: the caller CANCELs through B; B answers it, relays it to where the INVITE went, the 487 comes back and
 * its ACK goes through. The callee sees CANCEL and ACK with the very branch node A gave the INVITE. With the
 * failover handling off, cases 4 and 5 fail, as the talk says.
 */
class FailoverInTransactionTest
{
    private static final String VIP = "127.0.0.10";
    private static final int VIP_PORT = 25160;
    private static final int UAC_PORT = 25170;
    private static final int UAS_PORT = 25190;

    @TempDir
    Path dir;

    private final SipProcesses processes = new SipProcesses();
    private SipShim nodeA;
    private SipShim nodeB;

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        for (final SipShim node : new SipShim[] {nodeA, nodeB})
        {
            if (node != null)
            {
                node.close();
            }
        }
    }

    private SipContext node(final boolean failoverHandling)
    {
        return new SipContext().listen(VIP + ":" + VIP_PORT).route("127.0.0.1:" + UAS_PORT)
            .failoverHandling(failoverHandling).conclude();
    }

    /** Run one call of a scenario pair with the VIP moving from A to B while it rings. @return {uac, uas} exit codes */
    private int[] callWithFailover(final String scenario, final boolean failoverHandling) throws Exception
    {
        return callWithFailover(scenario, failoverHandling, "SIP/2.0 180 Ringing");
    }

    /** As above, the VIP moving once the caller's message log shows {@code moveAfter}. */
    private int[] callWithFailover(final String scenario, final boolean failoverHandling, final String moveAfter)
        throws Exception
    {
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        for (final String side : List.of("uac-", "uas-"))
        {
            Files.copy(Path.of("src/test/resources/sipp/" + side + scenario + ".xml"), dir.resolve(side + scenario + ".xml"));
        }
        nodeA = new SipShim(node(failoverHandling));
        final Process uas = processes.start(dir.resolve("uas.log"), dir, List.of("timeout", "30", "sipp", "-sf",
            "uas-" + scenario + ".xml", "-i", "127.0.0.1", "-p", Integer.toString(UAS_PORT), "-m", "1", "-nostdin",
            "-trace_msg", "-message_file", dir.resolve("uas-messages.log").toString()));
        Thread.sleep(300);
        final Process uac = processes.start(dir.resolve("uac.log"), dir, List.of("timeout", "30", "sipp",
            VIP + ":" + VIP_PORT, "-sf", "uac-" + scenario + ".xml", "-i", "127.0.0.1", "-p", Integer.toString(UAC_PORT),
            "-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file",
            dir.resolve("uac-messages.log").toString()));
        awaitText("uac-messages.log", moveAfter); // the caller has it: A relayed it
        // The VIP moves: A's host is gone, B takes the address (and nothing of A's transactions).
        nodeA.close();
        nodeA = null;
        nodeB = new SipShim(node(failoverHandling));
        assertTrue(uac.waitFor(25, TimeUnit.SECONDS), "SIPp UAC did not finish");
        if (!uas.waitFor(failoverHandling ? 20 : 8, TimeUnit.SECONDS))
        {
            uas.destroy();
            uas.waitFor(5, TimeUnit.SECONDS);
            return new int[] {uac.exitValue(), -1};
        }
        return new int[] {uac.exitValue(), uas.exitValue()};
    }

    /** The top Via branch of each request the callee received, by method. */
    private Map<String, String> branchesAtCallee() throws IOException
    {
        final Map<String, String> branches = new LinkedHashMap<>();
        final Pattern request = Pattern.compile("(?m)^(INVITE|CANCEL|ACK) sip:\\S+ SIP/2\\.0\\s*$[\\s\\S]*?^Via: [^\\n]*;branch=([^;\\s]+)");
        final Matcher m = request.matcher(log("uas-messages.log"));
        while (m.find())
        {
            branches.putIfAbsent(m.group(1), m.group(2));
        }
        return branches;
    }

    private String logs() throws IOException
    {
        return "\nUAC:\n" + log("uac-messages.log") + "\nUAS:\n" + log("uas-messages.log") + "\nUAS output:\n" +
            log("uas.log");
    }

    private String log(final String name) throws IOException
    {
        return SipProcesses.log(dir, name);
    }

    private void awaitText(final String name, final String text) throws Exception
    {
        SipProcesses.awaitText(dir, name, text, 10);
    }

    @Test
    void case5CancelAfterTheVipMovedReachesTheCalleeWithTheInvitesBranch() throws Exception
    {
        final int[] exits = callWithFailover("cancel", true);
        assertEquals(0, exits[0], "the caller's CANCEL got its 200, the 487 came, its ACK went" + logs());
        assertEquals(0, exits[1], "the callee got the CANCEL and the ACK for its 487" + logs());
        final Map<String, String> branches = branchesAtCallee();
        assertEquals(List.of("INVITE", "CANCEL", "ACK"), List.copyOf(branches.keySet()), logs());
        assertEquals(branches.get("INVITE"), branches.get("CANCEL"), "RFC 3261 9.1: node B gave the CANCEL A's branch");
        assertEquals(branches.get("INVITE"), branches.get("ACK"), "RFC 3261 17.1.1.3: the ACK of the 487 too");
        assertEquals(3, nodeB.relayedWithoutTransaction(), "B relayed the CANCEL, the 487 and its ACK without A's transaction");
    }

    @Test
    void case2AnEstablishedCallsByeAfterTheVipMovedFollowsTheRecordRoute() throws Exception
    {
        final int[] exits = callWithFailover("established", true, "ACK sip:");
        assertEquals(0, exits[0], "the caller's BYE got its 200 through B" + logs());
        assertEquals(0, exits[1], "the callee got the BYE through B" + logs());
        assertEquals(1, nodeB.relayed(javax.sip.message.Request.BYE), "the BYE by loose routing");
        assertEquals(0, nodeB.relayedWithoutTransaction(), "in-dialog: nothing of A's transactions was needed");
    }

    @Test
    void case3AnAnswerAfterTheVipMovedIsRelayedAndAckAndByeFollowTheRecordRoute() throws Exception
    {
        final int[] exits = callWithFailover("answer", true);
        assertEquals(0, exits[0], "the caller got the 200 through B, and its BYE its 200" + logs());
        assertEquals(0, exits[1], "the callee got the ACK and the BYE through B" + logs());
        assertEquals(1, nodeB.relayedWithoutTransaction(), "B relayed the 200 by its Via, with no transaction");
        assertEquals(1, nodeB.relayed(javax.sip.message.Request.ACK), "the ACK by loose routing");
        assertEquals(1, nodeB.relayed(javax.sip.message.Request.BYE), "the BYE by loose routing");
    }

    @Test
    void case4AnErrorAfterTheVipMovedIsRelayedAndItsAckReachesTheCallee() throws Exception
    {
        final int[] exits = callWithFailover("busy", true);
        assertEquals(0, exits[0], "the caller got the 486 through B" + logs());
        assertEquals(0, exits[1], "the callee got the ACK for its 486 through B" + logs());
        final Map<String, String> branches = branchesAtCallee();
        assertEquals(branches.get("INVITE"), branches.get("ACK"), "RFC 3261 17.1.1.3: node B gave the ACK A's branch");
        assertEquals(2, nodeB.relayedWithoutTransaction(), "B relayed the 486 and the ACK without A's transaction");
    }

    @Test
    void withoutFailoverHandlingCase5Fails() throws Exception
    {
        final int[] exits = callWithFailover("cancel", false);
        assertNotEquals(0, exits[0], "the CANCEL gets 481 at B" + logs());
        assertTrue(log("uac-messages.log").contains("SIP/2.0 481"), logs());
    }

    @Test
    void withoutFailoverHandlingCase4Fails() throws Exception
    {
        final int[] exits = callWithFailover("busy", false);
        assertNotEquals(0, exits[1], "the callee never gets the ACK for its 486" + logs());
    }
}
