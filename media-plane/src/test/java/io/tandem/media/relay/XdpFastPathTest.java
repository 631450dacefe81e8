package io.tandem.media.relay;

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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.tandem.media.TestProcesses;

/**
 * The XDP fast path on a real kernel, in two network namespaces joined by a veth pair (native XDP): a peer sends
 * RTP-sized packets to the relay's address; the program, loaded and attached from Java with no compiler, forwards
 * those of a stream it has an entry for straight back out with the addresses and ports the relay would use, and the
 * peer receives them on its other port from the relay's other port, with no socket open on the relay. A packet from
 * another source than the entry names is dropped in the kernel and counted; a port with no entry and a removed
 * entry are not forwarded. The verifier's acceptance of the program is part of the test.
 */
class XdpFastPathTest
{
    private static final String PEER = "10.218.0.1";
    private static final String RELAY = "10.218.0.2";

    private final String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
    private final String nsPeer = "tdx-p-" + suffix;
    private final String nsRelay = "tdx-r-" + suffix;
    private final TestProcesses processes = new TestProcesses();
    private Path work;

    @BeforeEach
    void setUp() throws IOException
    {
        final Path target = TestProcesses.REPO.resolve("media-plane/target");
        Files.createDirectories(target);
        work = Files.createTempDirectory(target, "xdp-test-");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        processes.close();
        for (final String ns : List.of(nsPeer, nsRelay))
        {
            TestProcesses.run(false, "ip", "netns", "del", ns);
        }
    }

    private static void run(final String... command) throws Exception
    {
        TestProcesses.run(true, command);
    }

    private String mac(final String ns) throws Exception
    {
        final Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(
            TestProcesses.run(true, "ip", "-n", ns, "link", "show", "eth0"));
        assertTrue(m.find());
        return m.group(1);
    }

    /** A tool process in a namespace, driven line by line. */
    private final class Tool
    {
        private final PrintStream commands;
        private final BufferedReader replies;

        Tool(final String ns, final String name, final String... args) throws Exception
        {
            final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns, "timeout", "120"));
            command.addAll(TestProcesses.java(XdpTool.class, args));
            final Process process = processes.start(work.resolve(name + ".err"), null, command, true);
            commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            final String first = replies.readLine();
            assertEquals("ready", first, () -> name + " did not start: " + log(name));
        }

        String send(final String line) throws IOException
        {
            commands.println(line);
            return replies.readLine();
        }
    }

    private String log(final String name)
    {
        try
        {
            return Files.readString(work.resolve(name + ".err"));
        }
        catch (final IOException ex)
        {
            return "(no log)";
        }
    }

    private static void await(final String what, final Supplier<Boolean> condition) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.get())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static String call(final Tool tool, final String line)
    {
        try
        {
            return tool.send(line);
        }
        catch (final IOException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void establishedStreamsAreForwardedInTheKernelAndStrangersDropped() throws Exception
    {
        TestProcesses.need(TestProcesses.root(), "XDP and network namespaces need root");
        run("ip", "netns", "add", nsPeer);
        run("ip", "netns", "add", nsRelay);
        run("ip", "link", "add", "tdx-a" + suffix, "type", "veth", "peer", "name", "tdx-b" + suffix);
        run("ip", "link", "set", "tdx-a" + suffix, "netns", nsPeer);
        run("ip", "link", "set", "tdx-b" + suffix, "netns", nsRelay);
        run("ip", "-n", nsPeer, "link", "set", "tdx-a" + suffix, "name", "eth0");
        run("ip", "-n", nsRelay, "link", "set", "tdx-b" + suffix, "name", "eth0");
        run("ip", "-n", nsPeer, "addr", "add", PEER + "/24", "dev", "eth0");
        run("ip", "-n", nsRelay, "addr", "add", RELAY + "/24", "dev", "eth0");
        for (final String ns : List.of(nsPeer, nsRelay))
        {
            run("ip", "-n", ns, "link", "set", "eth0", "up");
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        final String peerMac = mac(nsPeer);
        final String relayMac = mac(nsRelay);

        final Tool relay = new Tool(nsRelay, "relay", "relay", "eth0");
        final Tool peer = new Tool(nsPeer, "peer", "peer", PEER);
        // veth delivers what XDP_TX sends only to a peer that runs XDP itself (or has GRO on): the caller's side is
        // a host with a NIC in production; here the peer's end gets a program too, with no entries (it passes all)
        final Tool peerSide = new Tool(nsPeer, "peer-xdp", "relay", "eth0");
        assertEquals("listening", peer.send("listen 7002"));
        assertEquals("ok", relay.send("put " + RELAY + " 20000 " + PEER + " 7000 " + RELAY + " 20002 " + PEER + " 7002 " +
            peerMac + " " + relayMac));

        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20000 100"));
        await("the peer receives the 100 packets the kernel forwarded",
            () -> call(peer, "count 7002").equals("100 from " + RELAY + ":20002"));
        assertEquals("packets 100 bytes " + 100 * (14 + 20 + 8 + 172) + " dropped 0", relay.send("counters " + RELAY + " 20000"));

        assertEquals("sent", peer.send("send 7004 " + RELAY + " 20000 10"));
        await("a stranger's packets are dropped in the kernel and counted",
            () -> call(relay, "counters " + RELAY + " 20000").endsWith("dropped 10"));
        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20010 10"));
        assertEquals("removed true", relay.send("remove " + RELAY + " 20000"));
        assertEquals("sent", peer.send("send 7000 " + RELAY + " 20000 10"));
        Thread.sleep(300);
        assertEquals("100 from " + RELAY + ":20002", peer.send("count 7002"),
            "nothing forwarded for a port without an entry, a stranger or a removed entry");
        assertEquals("none", relay.send("counters " + RELAY + " 20000"));
        assertEquals("none", peerSide.send("counters " + PEER + " 7002"), "the peer's own program forwards nothing");
    }
}
