package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.tandem.media.TestProcesses;

/**
 * The XDP program itself, run by the kernel on frames the test writes (BPF_PROG_TEST_RUN: the verifier passed it,
 * nothing is attached or sent): a stream's packet is rewritten exactly as the relay would send it, with a valid IP
 * checksum and its payload untouched; a stranger's is dropped; everything else (truncated, VLAN-tagged, fragmented,
 * IP options, IPv6, TCP, unknown ports) passes up unchanged. A reference model in Java says what each frame must
 * give, for hand-written frames, 20,000 seeded mutations in every build, and fuzzed ones ({@code JAZZER_FUZZ=1}).
 */
class XdpProgramTest
{
    private static final byte[] RELAY = {10, 0, 0, 2};
    private static final byte[] PEER = {10, 0, 0, 1};
    private static final byte[] RELAY_MAC = {2, 0, 0, 0, 0, 2};
    private static final byte[] PEER_MAC = {2, 0, 0, 0, 0, 1};
    /** The latched stream: 10.0.0.2:20000 from 10.0.0.1:7000 only, on as 10.0.0.2:20002 to 10.0.0.1:7002. */
    private static final int STRICT_PORT = 20000;
    /** A stream that accepts any source: 10.0.0.2:30000, on as 10.0.0.2:30002 to 10.0.0.1:7102. */
    private static final int ANY_PORT = 30000;

    private static XdpFastPath path;

    private static synchronized XdpFastPath path() throws Exception
    {
        if (path == null)
        {
            TestProcesses.need(TestProcesses.root(), "loading BPF programs needs root (or CAP_BPF)");
            path = XdpFastPath.load(16);
            path.put(ip(RELAY), STRICT_PORT, ip(PEER), 7000, ip(RELAY), 20002, ip(PEER), 7002, PEER_MAC, RELAY_MAC);
            path.put(ip(RELAY), ANY_PORT, null, 0, ip(RELAY), 30002, ip(PEER), 7102, PEER_MAC, RELAY_MAC);
        }
        return path;
    }

    @AfterAll
    static void unload()
    {
        if (path != null)
        {
            path.close();
            path = null;
        }
    }

    private static Inet4Address ip(final byte[] address) throws Exception
    {
        return (Inet4Address)InetAddress.getByAddress(address);
    }

    /** An Ethernet + IPv4 + UDP frame with an RTP-sized payload and a correct IP checksum. */
    static byte[] frame(final byte[] source, final int sourcePort, final byte[] destination, final int destinationPort)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 172);
        b.put(RELAY_MAC).put(PEER_MAC).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0xb8).putShort((short)(20 + 8 + 172)).putShort((short)0x1234).putShort((short)0x4000)
            .put((byte)63).put((byte)17).putShort((short)0).put(source).put(destination);
        b.putShort((short)sourcePort).putShort((short)destinationPort).putShort((short)(8 + 172)).putShort((short)0xbeef);
        for (int i = 0; i < 172; i++)
        {
            b.put((byte)(i * 7));
        }
        final byte[] frame = b.array();
        setChecksum(frame);
        return frame;
    }

    private static void setChecksum(final byte[] frame)
    {
        frame[24] = 0;
        frame[25] = 0;
        final int sum = ipSum(frame);
        frame[24] = (byte)(~sum >> 8);
        frame[25] = (byte)~sum;
    }

    /** The one's complement sum of the IPv4 header's ten words, folded. */
    private static int ipSum(final byte[] frame)
    {
        int sum = 0;
        for (int i = 14; i < 34; i += 2)
        {
            sum += ((frame[i] & 0xff) << 8) | (frame[i + 1] & 0xff);
        }
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return sum;
    }

    private static int u16(final byte[] frame, final int at)
    {
        return ((frame[at] & 0xff) << 8) | (frame[at + 1] & 0xff);
    }

    private static boolean equal(final byte[] frame, final int at, final byte[] value)
    {
        return Arrays.equals(frame, at, at + value.length, value, 0, value.length);
    }

    /** What the program must do with a frame: the reference model. */
    private static int expectedAction(final byte[] f)
    {
        if (f.length < 42 || u16(f, 12) != 0x0800 || (f[14] & 0xff) != 0x45 || (u16(f, 20) & 0x3fff) != 0 ||
            f[23] != 17 || !equal(f, 30, RELAY))
        {
            return XdpFastPath.XDP_PASS;
        }
        final int port = u16(f, 36);
        if (port == ANY_PORT)
        {
            return XdpFastPath.XDP_TX;
        }
        if (port != STRICT_PORT)
        {
            return XdpFastPath.XDP_PASS;
        }
        return equal(f, 26, PEER) && u16(f, 34) == 7000 ? XdpFastPath.XDP_TX : XdpFastPath.XDP_DROP;
    }

    /** Run a frame and check it against the model. @return the action */
    private static int check(final byte[] in) throws Exception
    {
        final Bpf.TestRun run = path().testRun(in);
        final int expected = expectedAction(in);
        assertEquals(expected, run.action(), () -> "action for " + Arrays.toString(in));
        if (expected != XdpFastPath.XDP_TX)
        {
            assertArrayEquals(in, run.frame(), "a frame not forwarded goes on unchanged");
            return expected;
        }
        final byte[] out = run.frame();
        final boolean strict = u16(in, 36) == STRICT_PORT;
        assertEquals(in.length, out.length);
        assertTrue(equal(out, 0, PEER_MAC) && equal(out, 6, RELAY_MAC), "Ethernet addresses of the next hop");
        assertTrue(equal(out, 26, RELAY) && equal(out, 30, PEER), "addresses as the relay sends");
        assertEquals(strict ? 20002 : 30002, u16(out, 34));
        assertEquals(strict ? 7002 : 7102, u16(out, 36));
        assertEquals(0, u16(out, 40), "no UDP checksum");
        assertEquals(64, out[22] & 0xff, "TTL");
        assertEquals(0xffff, ipSum(out), "a valid IP header checksum");
        assertArrayEquals(Arrays.copyOfRange(in, 14, 22), Arrays.copyOfRange(out, 14, 22), "the rest of the IP header");
        assertEquals(in[23], out[23]);
        assertArrayEquals(Arrays.copyOfRange(in, 38, 40), Arrays.copyOfRange(out, 38, 40), "the UDP length");
        assertArrayEquals(Arrays.copyOfRange(in, 42, in.length), Arrays.copyOfRange(out, 42, out.length), "payload");
        return expected;
    }

    @Test
    void aStreamsPacketIsRewrittenAsTheRelaySendsItAndAStrangersDropped() throws Exception
    {
        assertEquals(XdpFastPath.XDP_TX, check(frame(PEER, 7000, RELAY, STRICT_PORT)));
        assertEquals(XdpFastPath.XDP_DROP, check(frame(PEER, 7001, RELAY, STRICT_PORT)), "another port of the peer");
        assertEquals(XdpFastPath.XDP_DROP, check(frame(new byte[] {10, 0, 0, 9}, 7000, RELAY, STRICT_PORT)));
        assertEquals(XdpFastPath.XDP_TX, check(frame(new byte[] {10, 0, 0, 9}, 4444, RELAY, ANY_PORT)),
            "a stream not latched takes any source");
        assertEquals(XdpFastPath.XDP_PASS, check(frame(PEER, 7000, RELAY, 20001)), "no entry: up the stack");
        assertEquals(XdpFastPath.XDP_PASS, check(frame(PEER, 7000, new byte[] {10, 0, 0, 3}, STRICT_PORT)),
            "another local address");
        final XdpFastPath.Counters counters = path().counters(ip(RELAY), STRICT_PORT);
        assertTrue(counters.packets() >= 1 && counters.dropped() >= 2, counters.toString());
    }

    @Test
    void eachCpuCountsItsOwnPacketsAndTheCountersAddThemUp() throws Exception
    {
        path(); // root, or skipped
        final int cpus = Runtime.getRuntime().availableProcessors();
        try (XdpFastPath own = XdpFastPath.load(4))
        {
            own.put(ip(RELAY), STRICT_PORT, ip(PEER), 7000, ip(RELAY), 20002, ip(PEER), 7002, PEER_MAC, RELAY_MAC);
            final byte[] good = frame(PEER, 7000, RELAY, STRICT_PORT);
            final byte[] stranger = frame(PEER, 7001, RELAY, STRICT_PORT);
            final List<Thread> threads = new ArrayList<>();
            final List<Throwable> failures = new CopyOnWriteArrayList<>();
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                final int pinned = cpu;
                threads.add(Thread.ofPlatform().start(() ->
                {
                    try
                    {
                        CpuAffinity.pinCurrentThread(pinned); // a test run runs on the CPU that asks for it
                        for (int i = 0; i < 100 + pinned; i++)
                        {
                            assertEquals(XdpFastPath.XDP_TX, own.testRun(good).action());
                        }
                        assertEquals(XdpFastPath.XDP_DROP, own.testRun(stranger).action());
                    }
                    catch (final Throwable ex)
                    {
                        failures.add(ex);
                    }
                }));
            }
            for (final Thread thread : threads)
            {
                thread.join();
            }
            assertEquals(List.of(), failures);
            final long packets = 100L * cpus + (long)cpus * (cpus - 1) / 2;
            assertEquals(new XdpFastPath.Counters(packets, packets * good.length, cpus),
                own.counters(ip(RELAY), STRICT_PORT), "every CPU's counts, summed");
            own.put(ip(RELAY), STRICT_PORT, null, 0, ip(RELAY), 20002, ip(PEER), 7002, PEER_MAC, RELAY_MAC);
            assertEquals(new XdpFastPath.Counters(0, 0, 0), own.counters(ip(RELAY), STRICT_PORT),
                "a replaced entry starts counting afresh on every CPU");
        }
    }

    @Test
    void aPerCpuValueIsHeldForEveryPossibleCpu()
    {
        assertEquals(2, Bpf.countCpus("0-1\n"));
        assertEquals(7, Bpf.countCpus("0-3,6"));
        assertEquals(1, Bpf.countCpus("0"));
        assertTrue(Bpf.possibleCpus() >= Runtime.getRuntime().availableProcessors());
    }

    @Test
    void whatIsNotAPlainIpv4UdpPacketPassesUnchanged() throws Exception
    {
        final byte[] good = frame(PEER, 7000, RELAY, STRICT_PORT);
        for (int length = 14; length < 42; length++)
        {
            assertEquals(XdpFastPath.XDP_PASS, check(Arrays.copyOf(good, length)), "truncated to " + length);
        }
        final byte[] vlan = new byte[good.length + 4];
        System.arraycopy(good, 0, vlan, 0, 12);
        vlan[12] = (byte)0x81;
        vlan[14] = 0x00;
        vlan[15] = 0x64;
        System.arraycopy(good, 12, vlan, 16, good.length - 12);
        assertEquals(XdpFastPath.XDP_PASS, check(vlan), "VLAN-tagged");
        final byte[] fragment = good.clone();
        fragment[20] = 0x20; // more fragments
        setChecksum(fragment);
        assertEquals(XdpFastPath.XDP_PASS, check(fragment), "first fragment");
        final byte[] later = good.clone();
        later[20] = 0;
        later[21] = 0x17; // offset 184
        setChecksum(later);
        assertEquals(XdpFastPath.XDP_PASS, check(later), "later fragment");
        final byte[] options = good.clone();
        options[14] = 0x46;
        assertEquals(XdpFastPath.XDP_PASS, check(options), "IP options");
        final byte[] tcp = good.clone();
        tcp[23] = 6;
        assertEquals(XdpFastPath.XDP_PASS, check(tcp), "TCP");
        final byte[] ipv6 = good.clone();
        ipv6[12] = (byte)0x86;
        ipv6[13] = (byte)0xdd;
        assertEquals(XdpFastPath.XDP_PASS, check(ipv6), "IPv6");
        final byte[] arp = good.clone();
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertEquals(XdpFastPath.XDP_PASS, check(arp), "ARP");
    }

    @Test
    void twentyThousandMutatedFramesDoWhatTheModelSays() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(0x7a_4d_e3);
        final byte[][] bases = {frame(PEER, 7000, RELAY, STRICT_PORT), frame(PEER, 7000, RELAY, ANY_PORT),
            frame(PEER, 7001, RELAY, STRICT_PORT)};
        final int[] actions = new int[4];
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] base = bases[random.nextInt(bases.length)];
            final byte[] frame = Arrays.copyOf(base, 14 + random.nextInt(base.length - 13));
            for (int m = random.nextInt(3); m > 0; m--)
            {
                frame[random.nextInt(Math.min(frame.length, 44))] = (byte)random.nextInt(256);
            }
            actions[check(frame)]++;
        }
        assertTrue(actions[XdpFastPath.XDP_TX] > 1000 && actions[XdpFastPath.XDP_DROP] > 1000 &&
            actions[XdpFastPath.XDP_PASS] > 1000, Arrays.toString(actions));
    }

    @FuzzTest(maxDuration = "30s")
    void anyFrameDoesWhatTheModelSays(final FuzzedDataProvider data) throws Exception
    {
        final byte[] frame;
        if (data.consumeBoolean())
        {
            frame = frame(PEER, data.consumeBoolean() ? 7000 : data.consumeInt(0, 65535), RELAY,
                data.consumeBoolean() ? STRICT_PORT : ANY_PORT);
            final byte[] changes = data.consumeBytes(8);
            for (int i = 0; i + 1 < changes.length; i += 2)
            {
                frame[(changes[i] & 0xff) % 44] = changes[i + 1];
            }
        }
        else
        {
            frame = data.consumeRemainingAsBytes();
        }
        if (frame.length >= 14)
        {
            check(frame);
        }
    }
}
