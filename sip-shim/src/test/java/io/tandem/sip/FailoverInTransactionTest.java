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
 * binds it, as when keepalived moves the VIP to the standby (on two hosts in namespaces, with a real VIP move:
 * TwoHostInTransactionTest). Case 2: the call is up when the VIP moves; its BYE passes B by loose routing.
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
    /** Where nobody listens: node B's own routing in the tests where only the call info knows the way. */
    private static final String NOWHERE = "127.0.0.1:25199";

    @TempDir
    Path dir;

    private final SipProcesses processes = new SipProcesses();
    private SipShim nodeA;
    private SipShim nodeB;
    /** The nodes' call info, journaled from A to B, when a test replicates it (else each node has its own). */
    private CallInfoStore callsA;
    private CallInfoStore callsB;
    /** Where node B's own routing sends initial requests (and CANCELs and ACKs it knows nothing of). */
    private String routeOfB = "127.0.0.1:" + UAS_PORT;
    /** A routing file both nodes use instead of a single route, when a test gives one. */
    private Path routes;

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        for (final AutoCloseable node : new AutoCloseable[] {nodeA, nodeB, callsA, callsB})
        {
            if (node != null)
            {
                node.close();
            }
        }
    }

    private SipContext node(final boolean failoverHandling, final String route)
    {
        final SipContext ctx = new SipContext().listen(VIP + ":" + VIP_PORT).failoverHandling(failoverHandling);
        return (routes == null ? ctx.route(route) : ctx.routes(routes.toString())).conclude();
    }

    /** Call info replicated from A to B over the state journal, as an HA pair of shims runs. */
    private void replicateCallInfo()
    {
        callsA = journaled("a", "127.0.0.1:40730", "127.0.0.1:40740", true);
        callsB = journaled("b", "127.0.0.1:40740", "127.0.0.1:40730", false);
    }

    private CallInfoStore journaled(final String name, final String listen, final String peer, final boolean active)
    {
        return new CallInfoStore(JournaledShims.journal(dir, name, listen, peer, active), System::currentTimeMillis);
    }

    private SipShim startA(final boolean failoverHandling) throws Exception
    {
        final SipContext ctx = node(failoverHandling, "127.0.0.1:" + UAS_PORT);
        return callsA == null ? new SipShim(ctx) : new SipShim(ctx, callsA);
    }

    private SipShim startB(final boolean failoverHandling) throws Exception
    {
        final SipContext ctx = node(failoverHandling, routeOfB);
        if (callsB == null)
        {
            return new SipShim(ctx);
        }
        callsB.promote(); // keepalived's notify MASTER on B
        return new SipShim(ctx, callsB);
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
        nodeA = startA(failoverHandling);
        final Process uas = processes.start(dir.resolve("uas.log"), dir, List.of("timeout", "30", "sipp", "-sf",
            "uas-" + scenario + ".xml", "-i", "127.0.0.1", "-p", Integer.toString(UAS_PORT), "-m", "1", "-nostdin",
            "-trace_msg", "-message_file", dir.resolve("uas-messages.log").toString()));
        Thread.sleep(300);
        final Process uac = processes.start(dir.resolve("uac.log"), dir, List.of("timeout", "30", "sipp",
            VIP + ":" + VIP_PORT, "-sf", "uac-" + scenario + ".xml", "-i", "127.0.0.1", "-p", Integer.toString(UAC_PORT),
            "-m", "1", "-timeout", "15s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file",
            dir.resolve("uac-messages.log").toString()));
        awaitText("uac-messages.log", moveAfter); // the caller has it: A relayed it
        if (callsB != null)
        {
            awaitReplicated();
        }
        // The VIP moves: A's host is gone, B takes the address (and nothing of A's transactions).
        nodeA.close();
        nodeA = null;
        if (callsA != null)
        {
            callsA.close();
            callsA = null;
        }
        nodeB = startB(failoverHandling);
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

    /** B holds the call's info, as A had it after relaying the 180 (the journal is milliseconds behind). */
    private void awaitReplicated() throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        final String callId = onlyCall(callsA);
        while (!callsA.get(callId).equals(callsB.get(callId)))
        {
            assertTrue(System.nanoTime() < deadline, "the call info reached B");
            Thread.sleep(5);
        }
    }

    private static String onlyCall(final CallInfoStore calls)
    {
        return calls.callIds().iterator().next();
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
    void case5WithReplicatedCallInfoTheCancelGoesWhereTheInviteWentThoughBsOwnRoutingDiffers() throws Exception
    {
        replicateCallInfo();
        routeOfB = NOWHERE; // B's routing would send it elsewhere (a changed table, an alternate A chose)
        final int[] exits = callWithFailover("cancel", true);
        assertEquals(0, exits[0], "the caller's CANCEL got its 200, the 487 came, its ACK went" + logs());
        assertEquals(0, exits[1], "the callee got the CANCEL and the ACK for its 487" + logs());
        final Map<String, String> branches = branchesAtCallee();
        assertEquals(branches.get("INVITE"), branches.get("CANCEL"), "the CANCEL reached the INVITE's destination");
        assertEquals(branches.get("INVITE"), branches.get("ACK"), "and so did the 487's ACK");
        final CallInfo call = callsB.get(onlyCall(callsB));
        assertEquals(CallInfo.State.FAILED, call.state(), "B's call info follows the call to its end");
        assertEquals("127.0.0.1:" + UAS_PORT + ";udp", call.destination());
    }

    @Test
    void case5AfterAnAlternateTheCancelReachesTheAlternateWithThatAttemptsBranch() throws Exception
    {
        // The rule's first destination answers 503, so A relays the INVITE to the second (the callee); then the VIP
        // moves. B's own routing would send the CANCEL to the first: only the replicated call info knows the attempt.
        SipProcesses.need("/usr/bin/sipp", "sip-tester");
        replicateCallInfo();
        final int unavailablePort = 25195;
        Files.copy(Path.of("src/test/resources/sipp/uas-unavailable.xml"), dir.resolve("uas-unavailable.xml"));
        final Process unavailable = processes.start(dir.resolve("unavailable.log"), dir, List.of("timeout", "30", "sipp",
            "-sf", "uas-unavailable.xml", "-i", "127.0.0.1", "-p", Integer.toString(unavailablePort), "-m", "1",
            "-nostdin"));
        routes = dir.resolve("routes.conf");
        Files.writeString(routes, "route * 127.0.0.1:" + unavailablePort + " 127.0.0.1:" + UAS_PORT + "\n");
        final int[] exits = callWithFailover("cancel", true);
        assertEquals(0, exits[0], "the caller's CANCEL got its 200, the 487 came, its ACK went" + logs());
        assertEquals(0, exits[1], "the second destination got the CANCEL and the ACK for its 487" + logs());
        final Map<String, String> branches = branchesAtCallee();
        assertEquals(branches.get("INVITE"), branches.get("CANCEL"), "B gave the CANCEL the second attempt's branch");
        assertEquals(branches.get("INVITE"), branches.get("ACK"));
        final CallInfo call = callsB.get(onlyCall(callsB));
        assertEquals(1, call.attempt());
        assertEquals("127.0.0.1:" + UAS_PORT + ";udp", call.destination());
        assertTrue(unavailable.waitFor(5, TimeUnit.SECONDS));
        assertEquals(0, unavailable.exitValue(), "the first destination got the INVITE and the ACK for its 503");
    }

    @Test
    void case4WithReplicatedCallInfoTheErrorsAckGoesWhereTheInviteWent() throws Exception
    {
        replicateCallInfo();
        routeOfB = NOWHERE;
        final int[] exits = callWithFailover("busy", true);
        assertEquals(0, exits[0], "the caller got the 486 through B" + logs());
        assertEquals(0, exits[1], "the callee got the ACK for its 486 through B" + logs());
        assertEquals(CallInfo.State.FAILED, callsB.get(onlyCall(callsB)).state());
    }

    @Test
    void withoutReplicatedCallInfoBsOwnRoutingLosesTheCancel() throws Exception
    {
        routeOfB = NOWHERE;
        final int[] exits = callWithFailover("cancel", true);
        assertNotEquals(0, exits[1], "the callee never gets the CANCEL: B sent it where its own routing says" + logs());
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
