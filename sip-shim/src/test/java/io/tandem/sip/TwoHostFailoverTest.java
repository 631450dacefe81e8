package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The product's promise on two hosts, in network namespaces the test creates and removes: a caller's and a callee's
 * host, node A and node B on one bridge, each node running Tandem's two halves as an operator runs them (the media
 * plane with its state journal, the SIP shim with its call info journal), both on the virtual IP, which A holds.
 * SIPp sets up 200 calls through A, each with RTP both ways (an RTP party on each side). Then A's host dies: both
 * its processes get SIGKILL, its link goes down, and B takes the VIP as keepalived would (address, gratuitous ARP,
 * the shipped notify script promoting both halves). Every call's media must come back through B both ways, and
 * every call's BYE, 20 s after its start, must pass B's shim, reach the callee, and end the media on B's media
 * plane, leaving no call there.
 */
class TwoHostFailoverTest
{
    private static final int CALLS = 200;
    private static final String VIP = NetnsHosts.VIP;
    private static final String A = NetnsHosts.A;
    private static final String B = NetnsHosts.B;
    private static final String CALLER = NetnsHosts.CALLER;
    private static final String CALLEE = NetnsHosts.CALLEE;

    private final NetnsHosts hosts = new NetnsHosts();
    private final String nsCaller = hosts.caller;
    private final String nsCallee = hosts.callee;
    private final String nsA = hosts.nodeA;
    private final String nsB = hosts.nodeB;
    private final SipProcesses processes = new SipProcesses();
    private Path work;

    @BeforeEach
    void setUp() throws IOException
    {
        work = NetnsHosts.workDirectory("two-host-failover-");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        hosts.close();
    }

    private static List<String> inNamespace(final String ns, final List<String> command)
    {
        return NetnsHosts.in(ns, command);
    }

    /** A node's two halves, as the shipped setup runs them. @return {media plane, shim} */
    private Process[] node(final String ns, final String name, final String self, final String peer,
        final boolean active) throws Exception
    {
        final String role = active ? "active" : "standby";
        final Process media = processes.start(work.resolve(name + "-media.log"), work, inNamespace(ns,
            SipProcesses.mediaPlane("--role", role, "--bind", VIP, "--freebind", "--ports", "24000-24999",
                "--listen-ng", "127.0.0.1:2223", "--sessions", work.resolve(name + "-sessions.cm3").toString(),
                "--counters", work.resolve(name + "-counters.dat").toString(),
                "--journal-listen", self + ":7400", "--journal-peer", peer + ":7400")));
        final Process shim = processes.start(work.resolve(name + "-sip.log"), work, inNamespace(ns,
            SipProcesses.java(Main.class, "--listen", VIP + ":5060", "--route", CALLEE + ":5060",
                "--media-node", "127.0.0.1:2223", "--listen-control", "127.0.0.1:2224", "--role", role,
                "--journal-listen", self + ":7500", "--journal-peer", peer + ":7500",
                "--state-dir", work.resolve(name + "-state").toString(), "--warm-up-calls", NetnsHosts.WARM_UP_CALLS)));
        return new Process[] {media, shim};
    }

    private static void await(final String what, final BooleanSupplier condition) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(100);
        }
    }

    private boolean status(final String ns, final String endpoint, final String expected)
    {
        try
        {
            return NetnsHosts.tandemctl(ns, endpoint, "status").equals(expected);
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    /** An RTP party in a host's namespace: the phone's media socket. */
    private final class Party
    {
        private final PrintStream commands;
        private final BufferedReader replies;

        Party(final String ns, final String address, final int port, final String name) throws Exception
        {
            final Process process = new ProcessBuilder(inNamespace(ns, SipProcesses.java(RtpParty.class, address,
                Integer.toString(port)))).redirectError(work.resolve(name + ".err").toFile()).start();
            processes.adopt(process);
            commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", replies.readLine());
        }

        String command(final String line)
        {
            commands.println(line);
            try
            {
                return replies.readLine();
            }
            catch (final IOException ex)
            {
                throw new AssertionError(ex);
            }
        }
    }

    private String logs() throws IOException
    {
        final StringBuilder text = new StringBuilder();
        for (final String name : List.of("uac.log", "uas.log", "b-sip.log", "b-media.log", "a-sip.log"))
        {
            final String log = SipProcesses.log(work, name);
            text.append("\n--- ").append(name).append(":\n").append(log.length() > 4000 ? log.substring(log.length() - 4000) : log);
        }
        return text.toString();
    }

    @Test
    void bothHalvesOfTheActiveDieAndEveryCallKeepsItsMediaAndEndsThroughTheStandby() throws Exception
    {
        NetnsHosts.need();
        hosts.create();
        final Process[] nodeA = node(nsA, "a", A, B, true);
        node(nsB, "b", B, A, false);
        await("both halves of both nodes answer", () -> status(nsA, "127.0.0.1:2223", "role active, calls 0") &&
            status(nsB, "127.0.0.1:2223", "role standby, calls 0") && status(nsA, "127.0.0.1:2224",
            "role active, calls 0") && status(nsB, "127.0.0.1:2224", "role standby, calls 0"));
        for (final String side : List.of("uac", "uas"))
        {
            Files.copy(Path.of("src/test/resources/sipp/" + side + "-media-failover.xml"),
                work.resolve(side + "-media-failover.xml"));
        }
        processes.start(work.resolve("uas.log"), work, inNamespace(nsCallee, List.of("timeout", "90", "sipp", "-sf",
            "uas-media-failover.xml", "-i", CALLEE, "-p", "5060", "-mp", "6000", "-nostdin", "-trace_msg",
            "-message_file", work.resolve("uas-messages.log").toString())));
        Thread.sleep(300);
        final Process uac = processes.start(work.resolve("uac.log"), work, inNamespace(nsCaller, List.of("timeout",
            "90", "sipp", VIP + ":5060", "-sf", "uac-media-failover.xml", "-i", CALLER, "-p", "5060", "-mp", "6000",
            "-m", Integer.toString(CALLS), "-l", Integer.toString(CALLS), "-r", "50", "-timeout", "60s",
            "-timeout_error", "-nostdin", "-trace_msg", "-message_file", work.resolve("uac-messages.log").toString())));

        // Every call is up through A: the ports Tandem gave each side, from the SDP each side received
        await("every call answered", () -> distinct(ports("uac-messages.log", "SIP/2.0 200 OK")) == CALLS &&
            distinct(ports("uas-messages.log", "INVITE sip:")) == CALLS);
        final Party caller = new Party(nsCaller, CALLER, 7000, "caller");
        final Party callee = new Party(nsCallee, CALLEE, 7002, "callee");
        caller.command("to " + VIP + " " + join(ports("uac-messages.log", "SIP/2.0 200 OK")));
        callee.command("to " + VIP + " " + join(ports("uas-messages.log", "INVITE sip:")));
        await("media flows both ways through A", () -> heardAll(caller) && heardAll(callee));
        await("B's halves hold every call", () -> status(nsB, "127.0.0.1:2223", "role standby, calls " + CALLS) &&
            status(nsB, "127.0.0.1:2224", "role standby, calls " + CALLS));

        // A's host dies; B takes the VIP as keepalived would, and its notify script promotes both halves
        caller.command("mark");
        callee.command("mark");
        final List<ProcessHandle> killed = new ArrayList<>();
        for (final Process process : nodeA)
        {
            killed.addAll(SipProcesses.kill(process));
        }
        hosts.moveVip();
        final String notify = hosts.notifyMaster(work, Map.of("TANDEM_NG", "127.0.0.1:2223",
            "TANDEM_SIP_CONTROL", "127.0.0.1:2224"));
        assertTrue(notify.startsWith("0 "), notify);
        await("media flows both ways through B", () -> heardAll(caller) && heardAll(callee));
        final String callerReport = caller.command("report");
        final String calleeReport = callee.command("report");
        System.out.printf("TwoHostFailoverTest: %d calls; after the kill, caller side: %s; callee side: %s%n", CALLS,
            callerReport, calleeReport);
        for (final ProcessHandle handle : killed)
        {
            handle.onExit().get(20, TimeUnit.SECONDS);
        }

        // Each call's BYE comes 20 s after it started: through B's shim (loose routing on the VIP), ending the media
        assertTrue(uac.waitFor(60, TimeUnit.SECONDS), "SIPp UAC did not finish" + logs());
        assertEquals(0, uac.exitValue(), "every call's BYE got its 200 through B" + logs());
        await("every call's media ended on B", () -> status(nsB, "127.0.0.1:2223", "role active, calls 0"));
        final String shim = NetnsHosts.tandemctl(nsB, "127.0.0.1:2224", "status");
        assertEquals("role active, calls " + CALLS, shim, "B's call info keeps the ended calls for their linger");
    }


    private static boolean heardAll(final Party party)
    {
        return party.command("report").startsWith("heard " + CALLS + " of " + CALLS);
    }

    private List<Integer> ports(final String log, final String firstLine)
    {
        try
        {
            return SipProcesses.audioPorts(SipProcesses.log(work, log), firstLine);
        }
        catch (final IOException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static long distinct(final List<Integer> ports)
    {
        return ports.stream().distinct().count();
    }

    private static String join(final List<Integer> ports)
    {
        return ports.stream().distinct().map(String::valueOf).collect(Collectors.joining(" "));
    }
}
