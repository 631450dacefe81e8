package io.tandem.media.relay;

import static io.tandem.media.relay.BpfAssembler.ADD;
import static io.tandem.media.relay.BpfAssembler.AND;
import static io.tandem.media.relay.BpfAssembler.B;
import static io.tandem.media.relay.BpfAssembler.DW;
import static io.tandem.media.relay.BpfAssembler.H;
import static io.tandem.media.relay.BpfAssembler.JEQ;
import static io.tandem.media.relay.BpfAssembler.JGT;
import static io.tandem.media.relay.BpfAssembler.JNE;
import static io.tandem.media.relay.BpfAssembler.R0;
import static io.tandem.media.relay.BpfAssembler.R1;
import static io.tandem.media.relay.BpfAssembler.R10;
import static io.tandem.media.relay.BpfAssembler.R2;
import static io.tandem.media.relay.BpfAssembler.R3;
import static io.tandem.media.relay.BpfAssembler.R6;
import static io.tandem.media.relay.BpfAssembler.R7;
import static io.tandem.media.relay.BpfAssembler.R8;
import static io.tandem.media.relay.BpfAssembler.R9;
import static io.tandem.media.relay.BpfAssembler.RSH;
import static io.tandem.media.relay.BpfAssembler.SUB;
import static io.tandem.media.relay.BpfAssembler.W;
import static io.tandem.media.relay.BpfAssembler.XOR;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.nio.ByteOrder;

/**
 * The kernel fast path for established streams: an XDP program on a media interface forwards each UDP packet whose
 * destination (local address and port) has an entry in its map, rewriting it as the relay would send it (source and
 * destination address and port, Ethernet addresses, a fresh IP checksum, no UDP checksum, TTL 64) and sending it
 * back out of the interface ({@code XDP_TX}), so no such packet reaches a socket, a wake-up or user space. An entry
 * may name the one source it accepts (strict source after latching): a packet from anywhere else is dropped in the
 * kernel and counted. Everything else (other protocols, IP options, fragments, unknown ports) goes up the stack
 * unchanged ({@code XDP_PASS}). The program is assembled here and loaded through {@code bpf()}: nothing is compiled
 * against the running kernel. Closing detaches it.
 */
public final class XdpFastPath implements AutoCloseable
{
    /** Map key: local IPv4 address, local port (network order), two zero bytes. */
    static final int KEY_SIZE = 8;
    /**
     * Map value: what to accept and how to rewrite (network order), then the counters. The map holds one value per
     * CPU (a per-CPU hash): the same rewrite in each, the counters of the packets that CPU forwarded, so a packet
     * costs no atomic add on a cache line the other CPUs write too; reading sums them.
     */
    static final int VALUE_SIZE = 56;
    static final int V_EXPECT_ADDRESS = 0;
    static final int V_EXPECT_PORT = 4;
    static final int V_SOURCE_ADDRESS = 8;
    static final int V_DESTINATION_ADDRESS = 12;
    static final int V_SOURCE_PORT = 16;
    static final int V_DESTINATION_PORT = 18;
    static final int V_DESTINATION_MAC = 20;
    static final int V_SOURCE_MAC = 26;
    static final int V_PACKETS = 32;
    static final int V_BYTES = 40;
    static final int V_DROPPED = 48;

    static final int XDP_DROP = 1;
    static final int XDP_PASS = 2;
    static final int XDP_TX = 3;
    private static final int HELPER_MAP_LOOKUP_ELEM = 1;
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Packets, bytes and strict-source drops the kernel counted for one stream. */
    public record Counters(long packets, long bytes, long dropped)
    {
    }

    private final int map;
    private final int program;
    private final int link;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment key = arena.allocate(KEY_SIZE, 8);
    private final int cpus = Bpf.possibleCpus();
    private final MemorySegment value = arena.allocate((long)VALUE_SIZE * cpus, 8);

    private XdpFastPath(final int map, final int program, final int link)
    {
        this.map = map;
        this.program = program;
        this.link = link;
    }

    /**
     * Load the program with a map for {@code maxStreams} streams and attach it to an interface.
     * @param xdpFlags {@link Bpf#XDP_FLAGS_DRV_MODE} (native; veth and real NICs), {@link Bpf#XDP_FLAGS_SKB_MODE}
     *                 (generic; any interface, loopback included), or 0 for the kernel's choice
     * @throws IOException naming why the kernel refused (permissions, the verifier's log, no native XDP)
     */
    public static XdpFastPath attach(final String interfaceName, final int maxStreams, final int xdpFlags)
        throws IOException
    {
        final int ifindex = Bpf.ifindex(interfaceName);
        if (ifindex == 0)
        {
            throw new IOException("no interface " + interfaceName);
        }
        final XdpFastPath loaded = load(maxStreams);
        try
        {
            return new XdpFastPath(loaded.map, loaded.program, Bpf.attachXdp(loaded.program, ifindex, xdpFlags));
        }
        catch (final IOException | RuntimeException ex)
        {
            loaded.close();
            throw ex;
        }
    }

    /** The program and its map, loaded (the verifier passed it) but attached nowhere: for {@link #testRun}. */
    static XdpFastPath load(final int maxStreams) throws IOException
    {
        final int map = Bpf.createHashMap(Bpf.MAP_TYPE_PERCPU_HASH, "tandem_streams", KEY_SIZE, VALUE_SIZE, maxStreams);
        try
        {
            return new XdpFastPath(map, Bpf.loadXdp("tandem_xdp", program(map)), -1);
        }
        catch (final IOException | RuntimeException ex)
        {
            Bpf.close(map);
            throw ex;
        }
    }

    /** Run the program once on a frame in the kernel, as if it had arrived (nothing is sent). */
    Bpf.TestRun testRun(final byte[] frame) throws IOException
    {
        return Bpf.testRun(program, frame);
    }

    /** The forwarding program, reading its entries from {@code map}. */
    static long[] program(final int map)
    {
        final BpfAssembler a = new BpfAssembler();
        a.mov(R6, R1)
            .load(W, R7, R6, 0)                 // r7 = ctx->data
            .load(W, R8, R6, 4)                 // r8 = ctx->data_end
            .mov(R2, R7).aluImm(ADD, R2, 42)    // Ethernet 14 + IPv4 20 + UDP 8
            .jump(JGT, R2, R8, "pass")
            .load(H, R2, R7, 12).jumpImm(JNE, R2, 0x0008, "pass")      // EtherType IPv4 (bytes 08 00)
            .load(B, R2, R7, 14).jumpImm(JNE, R2, 0x45, "pass")        // version 4, no options
            .load(H, R2, R7, 20).aluImm(AND, R2, 0xff3f)                // fragment offset or more fragments
            .jumpImm(JNE, R2, 0, "pass")
            .load(B, R2, R7, 23).jumpImm(JNE, R2, 17, "pass")          // UDP
            .load(W, R2, R7, 30).store(W, R10, -8, R2)                  // key: destination address
            .load(H, R2, R7, 36).store(H, R10, -4, R2)                  // key: destination port
            .storeImm(H, R10, -2, 0)
            .loadMap(R1, map)
            .mov(R2, R10).aluImm(ADD, R2, -8)
            .call(HELPER_MAP_LOOKUP_ELEM)
            .jumpImm(JEQ, R0, 0, "pass")
            .mov(R9, R0)
            // strict source: an entry that names its source drops packets from any other
            .load(W, R2, R9, V_EXPECT_ADDRESS).jumpImm(JEQ, R2, 0, "address ok")
            .load(W, R3, R7, 26).jump(JNE, R2, R3, "drop")
            .label("address ok")
            .load(H, R2, R9, V_EXPECT_PORT).jumpImm(JEQ, R2, 0, "source ok")
            .load(H, R3, R7, 34).jump(JNE, R2, R3, "drop")
            .label("source ok")
            // rewrite as the relay sends it
            .load(W, R2, R9, V_SOURCE_ADDRESS).store(W, R7, 26, R2)
            .load(W, R2, R9, V_DESTINATION_ADDRESS).store(W, R7, 30, R2)
            .load(H, R2, R9, V_SOURCE_PORT).store(H, R7, 34, R2)
            .load(H, R2, R9, V_DESTINATION_PORT).store(H, R7, 36, R2)
            .storeImm(H, R7, 40, 0)                                     // no UDP checksum (allowed over IPv4)
            .load(W, R2, R9, V_DESTINATION_MAC).store(W, R7, 0, R2)
            .load(H, R2, R9, V_DESTINATION_MAC + 4).store(H, R7, 4, R2)
            .load(W, R2, R9, V_SOURCE_MAC).store(W, R7, 6, R2)
            .load(H, R2, R9, V_SOURCE_MAC + 4).store(H, R7, 10, R2)
            .storeImm(B, R7, 22, 64)                                    // TTL: a packet the relay sends anew
            .storeImm(H, R7, 24, 0);                                    // the IP checksum, over the 10 words
        a.movImm(R2, 0);
        for (int offset = 14; offset < 34; offset += 2)
        {
            a.load(H, R3, R7, offset).alu(ADD, R2, R3);
        }
        a.mov(R3, R2).aluImm(RSH, R3, 16).aluImm(AND, R2, 0xffff).alu(ADD, R2, R3)
            .mov(R3, R2).aluImm(RSH, R3, 16).alu(ADD, R2, R3)
            .aluImm(XOR, R2, 0xffff).aluImm(AND, R2, 0xffff)
            .store(H, R7, 24, R2)
            // this CPU's counters: XDP runs with preemption off, so nothing else writes them meanwhile
            .load(DW, R2, R9, V_PACKETS).aluImm(ADD, R2, 1).store(DW, R9, V_PACKETS, R2)
            .mov(R3, R8).alu(SUB, R3, R7)                               // the frame's length (end minus start)
            .load(DW, R2, R9, V_BYTES).alu(ADD, R2, R3).store(DW, R9, V_BYTES, R2)
            .movImm(R0, XDP_TX).exit()
            .label("drop")
            .load(DW, R2, R9, V_DROPPED).aluImm(ADD, R2, 1).store(DW, R9, V_DROPPED, R2)
            .movImm(R0, XDP_DROP).exit()
            .label("pass")
            .movImm(R0, XDP_PASS).exit();
        return a.assemble();
    }

    private void key(final Inet4Address local, final int localPort)
    {
        key.fill((byte)0);
        MemorySegment.copy(local.getAddress(), 0, key, ValueLayout.JAVA_BYTE, 0, 4);
        key.set(BE_SHORT, 4, (short)localPort);
    }

    /**
     * Forward in the kernel what reaches {@code local:localPort}: from {@code expected:expectedPort} only (null, 0:
     * from anywhere), sent on from {@code source:sourcePort} to {@code destination:destinationPort}, to the next
     * hop's Ethernet address from this interface's. Replaces an entry of that local port, counters restarting.
     */
    public synchronized void put(final Inet4Address local, final int localPort, final Inet4Address expected,
        final int expectedPort, final Inet4Address source, final int sourcePort, final Inet4Address destination,
        final int destinationPort, final byte[] destinationMac, final byte[] sourceMac) throws IOException
    {
        key(local, localPort);
        value.fill((byte)0);
        if (expected != null)
        {
            MemorySegment.copy(expected.getAddress(), 0, value, ValueLayout.JAVA_BYTE, V_EXPECT_ADDRESS, 4);
        }
        value.set(BE_SHORT, V_EXPECT_PORT, (short)expectedPort);
        MemorySegment.copy(source.getAddress(), 0, value, ValueLayout.JAVA_BYTE, V_SOURCE_ADDRESS, 4);
        MemorySegment.copy(destination.getAddress(), 0, value, ValueLayout.JAVA_BYTE, V_DESTINATION_ADDRESS, 4);
        value.set(BE_SHORT, V_SOURCE_PORT, (short)sourcePort);
        value.set(BE_SHORT, V_DESTINATION_PORT, (short)destinationPort);
        MemorySegment.copy(destinationMac, 0, value, ValueLayout.JAVA_BYTE, V_DESTINATION_MAC, 6);
        MemorySegment.copy(sourceMac, 0, value, ValueLayout.JAVA_BYTE, V_SOURCE_MAC, 6);
        for (int cpu = 1; cpu < cpus; cpu++)
        {
            MemorySegment.copy(value, 0, value, (long)cpu * VALUE_SIZE, VALUE_SIZE);
        }
        Bpf.update(map, key, value);
    }

    /** Stop forwarding {@code local:localPort} in the kernel. @return false when it was not */
    public synchronized boolean remove(final Inet4Address local, final int localPort) throws IOException
    {
        key(local, localPort);
        return Bpf.delete(map, key);
    }

    /** What the kernel counted for a stream, or null when it has no entry. */
    public synchronized Counters counters(final Inet4Address local, final int localPort) throws IOException
    {
        key(local, localPort);
        if (!Bpf.lookup(map, key, value))
        {
            return null;
        }
        long packets = 0;
        long bytes = 0;
        long dropped = 0;
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            final long at = (long)cpu * VALUE_SIZE;
            packets += value.get(ValueLayout.JAVA_LONG, at + V_PACKETS);
            bytes += value.get(ValueLayout.JAVA_LONG, at + V_BYTES);
            dropped += value.get(ValueLayout.JAVA_LONG, at + V_DROPPED);
        }
        return new Counters(packets, bytes, dropped);
    }

    /** Detach the program (closing its link) and free its map. */
    @Override
    public synchronized void close()
    {
        Bpf.close(link);
        Bpf.close(program);
        Bpf.close(map);
        arena.close();
    }
}
