package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.tandem.media.Main;
import io.tandem.media.TestProcesses;
import io.tandem.media.stats.TandemStat;

/**
 * Tandem with {@code --fast-path xdp}, as its own process in a network namespace, relaying one call between two
 * parties in another namespace across a veth pair: the first packets go through its sockets, and once both streams
 * have latched the kernel forwards them: the parties keep hearing each other while Tandem's sockets receive
 * nothing more, and its counters show the streams and packets the kernel took. A re-INVITE that moves a party takes
 * the streams back to the sockets until they latch again, and the kernel then sends to the new address only; the
 * call's delete leaves no entry in the kernel and nothing forwarded.
 */
class XdpOffloadTest
{
    private static final String PARTY = "10.219.0.1";
    private static final String RELAY = "10.219.0.2";
    private static final Pattern CALL_LINE =
        Pattern.compile("call c0: A \\(.*\\) sends to [0-9.]+:(\\d+), B \\(.*\\) sends to [0-9.]+:(\\d+)");

    private final TestProcesses processes = new TestProcesses();
    private Path work;
    private VethPair veth;
    private Process started;

    @BeforeEach
    void setUp() throws IOException
    {
        final Path target = TestProcesses.REPO.resolve("media-plane/target");
        Files.createDirectories(target);
        work = Files.createTempDirectory(target, "xdp-offload-test-");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        if (veth != null)
        {
            veth.close();
        }
    }

    /** A counter of the relay's counters file, by its label. */
    private long counter(final String label) throws Exception
    {
        final String out = TestProcesses.run(true, TestProcesses.java(TandemStat.class, "--counters",
            work.resolve("counters.dat").toString()).toArray(new String[0]));
        for (final String line : out.split("\n"))
        {
            if (line.startsWith(label + ":"))
            {
                return Long.parseLong(line.substring(label.length() + 1).trim().replace(",", ""));
            }
        }
        throw new AssertionError("no counter " + label + " in\n" + out);
    }

    private static void await(final String what, final Supplier<Boolean> condition) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.get())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(100);
        }
    }

    private boolean check(final Check check)
    {
        try
        {
            return check.holds();
        }
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
        }
    }

    @FunctionalInterface
    private interface Check
    {
        boolean holds() throws Exception;
    }

    /** Tandem in the relay's namespace with one static call, c0, between the party's ports 7000 and 7002. @return its log */
    private String startTandem(final String ns, final String fastPath, final String name) throws Exception
    {
        final List<String> tandem = new ArrayList<>(List.of("ip", "netns", "exec", ns, "timeout", "120"));
        final List<String> java = TestProcesses.java(Main.class, "--bind", RELAY, "--fast-path", fastPath, "--ports",
            "20000-20099", "--listen-ng", "127.0.0.1:2223", "--sessions", work.resolve("sessions.cm3").toString(),
            "--counters", work.resolve("counters.dat").toString(), "--call",
            "c0," + PARTY + ":7000," + PARTY + ":7002");
        java.add(1, "-Dtandem.media.learning-window-s=1");
        tandem.addAll(java);
        started = processes.start(work.resolve(name + ".log"), tandem);
        await("Tandem runs", () -> check(() -> Files.readString(work.resolve(name + ".log")).contains("tandem: running")));
        return Files.readString(work.resolve(name + ".log"));
    }

    private String xdpOn(final String ns) throws Exception
    {
        final Matcher m = Pattern.compile("prog/xdp id \\d+").matcher(TestProcesses.run(true, "ip", "-n", ns, "link",
            "show", "eth0"));
        return m.find() ? m.group() : "none";
    }

    /**
     * A Tandem killed with SIGKILL leaves no program on the interface (the kernel detaches it with the link's
     * descriptor), and a restart attaches again, its call restored.
     */
    @Test
    void aKilledTandemLeavesNoProgramBehindAndARestartAttachesAgain() throws Exception
    {
        TestProcesses.need(TestProcesses.root(), "XDP and network namespaces need root");
        veth = new VethPair("tdk", PARTY, RELAY);
        startTandem(veth.nsB, "xdp", "tandem");
        assertTrue(xdpOn(veth.nsB).startsWith("prog/xdp"), "attached while Tandem runs");
        final List<ProcessHandle> killed = new ArrayList<>(started.descendants().toList());
        killed.add(started.toHandle());
        killed.forEach(ProcessHandle::destroyForcibly);
        for (final ProcessHandle handle : killed)
        {
            handle.onExit().get(20, TimeUnit.SECONDS);
        }
        await("the kernel detached the program", () -> check(() -> xdpOn(veth.nsB).equals("none")));
        final String restarted = startTandem(veth.nsB, "xdp", "tandem-2");
        assertTrue(restarted.contains("XDP fast path on eth0") && restarted.contains("(1 calls restored)"), restarted);
        assertTrue(xdpOn(veth.nsB).startsWith("prog/xdp"));
    }

    /** Where the kernel refuses native XDP (loopback), Tandem says why and relays the call on its sockets. */
    @Test
    void whereXdpIsRefusedTheCallIsRelayedOnSockets() throws Exception
    {
        TestProcesses.need(TestProcesses.root(), "XDP and network namespaces need root");
        veth = new VethPair("tdr", PARTY, RELAY);
        final String log = startTandem(veth.nsB, "xdp:lo", "tandem");
        assertTrue(log.contains("XDP fast path refused on lo, relaying on sockets"), log);
        final Matcher m = CALL_LINE.matcher(log);
        assertTrue(m.find(), log);
        final VethPair.Tool parties = new VethPair.Tool(processes, work, veth.nsA, "parties", "peer", PARTY);
        assertEquals("listening", parties.send("listen 7000"));
        assertEquals("listening", parties.send("listen 7002"));
        assertEquals("streaming", parties.send("stream 7000 " + RELAY + " " + m.group(1) + " 10"));
        assertEquals("streaming", parties.send("stream 7002 " + RELAY + " " + m.group(2) + " 10"));
        await("the parties hear each other through the sockets", () -> check(() ->
            parties.count(7000) > 50 && parties.count(7002) > 50));
        assertTrue(counter("rx packets") > 100);
        assertEquals(0, counter("xdp: streams in the kernel"));
    }

    @Test
    void onceBothStreamsLatchedTheKernelForwardsThemAndTheSocketsHearNothingMore() throws Exception
    {
        TestProcesses.need(TestProcesses.root(), "XDP and network namespaces need root");
        veth = new VethPair("tdo", PARTY, RELAY);
        final String nsParty = veth.nsA;
        final String nsRelay = veth.nsB;
        // veth hands what XDP_TX sends only to a peer end that runs XDP itself: the parties' end gets a program with
        // no entries (it passes everything); a host's NIC needs none
        new VethPair.Tool(processes, work, nsParty, "party-xdp", "relay", "eth0");

        final String log = startTandem(nsRelay, "xdp", "tandem");
        assertTrue(log.contains("XDP fast path on eth0"), log);
        final Matcher m = CALL_LINE.matcher(log);
        assertTrue(m.find(), log);

        final VethPair.Tool parties = new VethPair.Tool(processes, work, nsParty, "parties", "peer", PARTY);
        assertEquals("listening", parties.send("listen 7000"));
        assertEquals("listening", parties.send("listen 7002"));
        assertEquals("streaming", parties.send("stream 7000 " + RELAY + " " + m.group(1) + " 25"));
        assertEquals("streaming", parties.send("stream 7002 " + RELAY + " " + m.group(2) + " 25"));
        await("both streams are in the kernel", () -> check(() -> counter("xdp: streams in the kernel") == 2));
        Thread.sleep(200);
        final long socketsBefore = counter("rx packets");
        final long heardBefore = parties.count(7000) + parties.count(7002);
        Thread.sleep(2_000);
        final long socketsAfter = counter("rx packets");
        final long heardAfter = parties.count(7000) + parties.count(7002);
        assertTrue(heardAfter - heardBefore >= 150, "the parties hear each other: " + (heardAfter - heardBefore) +
            " packets in 2 s");
        assertEquals(socketsBefore, socketsAfter, "Tandem's sockets received nothing: the kernel forwarded it all");
        await("the kernel's packets are counted", () -> check(() -> counter("xdp: packets forwarded in the kernel") >=
            heardAfter - heardBefore));
        assertEquals(0, counter("xdp: failures"));
        assertTrue(parties.send("count 7000").endsWith("from " + RELAY + ":" + m.group(1)),
            "the caller hears the callee from the port it sends to");

        // re-INVITE: the callee moves to port 7004
        final VethPair.Tool ng = new VethPair.Tool(processes, work, nsRelay, "ng", "ng");
        assertEquals("listening", parties.send("listen 7004"));
        assertEquals("streaming", parties.send("stream 7004 " + RELAY + " " + m.group(2) + " 20"));
        assertEquals("ok", ng.send("answer c0 a b " + PARTY + ":7004"));
        final long movedAt = parties.count(7004);
        await("the moved callee hears the caller, and both streams are back in the kernel", () -> check(() ->
            parties.count(7004) > movedAt + 50 && counter("xdp: streams in the kernel") == 2));
        Thread.sleep(200);
        final long oldAddress = parties.count(7002);
        final long newAddress = parties.count(7004);
        Thread.sleep(1_000);
        assertEquals(oldAddress, parties.count(7002), "nothing goes to the callee's old address any more");
        assertTrue(parties.count(7004) > newAddress + 30, "the kernel sends to the new one");

        assertEquals("ok", ng.send("delete c0 a"));
        await("the deleted call has no entry in the kernel", () -> check(() ->
            counter("xdp: streams in the kernel") == 0));
        Thread.sleep(200);
        final long ended = parties.count(7000) + parties.count(7004);
        Thread.sleep(1_000);
        assertEquals(ended, parties.count(7000) + parties.count(7004), "nothing forwarded after the delete");
        assertEquals(0, counter("xdp: failures"));
    }
}
