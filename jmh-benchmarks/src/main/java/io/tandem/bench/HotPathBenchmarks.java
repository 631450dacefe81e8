package io.tandem.bench;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.tandem.media.codec.G711Transcoder;
import io.tandem.media.control.Sdp;
import io.tandem.media.control.SdpException;
import io.tandem.media.relay.RtpValidator;
import io.tandem.ng.Bencode;
import io.tandem.ng.BencodeException;

import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.agrona.collections.Int2ObjectHashMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** Micro-benchmarks of the hot and warm paths. Run with {@code -prof gc} to see allocation per operation. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HotPathBenchmarks
{
    static final String KAMAILIO_OFFER_SDP = String.join("\r\n",
        "v=0",
        "o=caller 53655765 2353687637 IN IP4 192.0.2.10",
        "s=-",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 49170 RTP/AVP 8 0 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
        "");

    private final ByteBuffer rtp = ByteBuffer.allocateDirect(172);
    private final G711Transcoder transcoder = G711Transcoder.ulawToAlaw();
    private byte[] offer;
    private final Int2ObjectHashMap<Object> primitiveIndex = new Int2ObjectHashMap<>();
    private ChronicleMap<Integer, byte[]> chronicleIndex;
    private byte[] chronicleValue = new byte[64];
    private File chronicleFile;
    private int port = 30000;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        rtp.put(0, (byte)0x80);
        final Map<String, Object> request = new java.util.LinkedHashMap<>();
        request.put("supports", List.of("load limit"));
        request.put("sdp", KAMAILIO_OFFER_SDP);
        request.put("call-id", "a84b4c76e66710@pc33.atlanta.example.com");
        request.put("received-from", List.of("IP4", "192.0.2.10"));
        request.put("from-tag", "1928301774");
        request.put("via-branch", "z9hG4bK776asdhds");
        request.put("flags", List.of("trust address"));
        request.put("replace", List.of("origin", "session-connection"));
        request.put("ICE", "remove");
        request.put("command", "offer");
        offer = Bencode.encode(request);
        chronicleFile = Files.createTempFile("tandem-bench", ".cm3").toFile();
        chronicleFile.delete();
        chronicleIndex = ChronicleMapBuilder.of(Integer.class, byte[].class)
            .entries(10_000).averageValueSize(64).createPersistedTo(chronicleFile);
        for (int p = 30000; p < 40000; p += 2)
        {
            primitiveIndex.put(p, new Object());
            chronicleIndex.put(p, new byte[64]);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        chronicleIndex.close();
        chronicleFile.delete();
    }

    /** RTP header parse and the forward/drop decision's first step. */
    @Benchmark
    public int rtpHeaderParse()
    {
        return RtpValidator.validate(rtp, 172);
    }

    /** G.711 u-law to A-law of a 160-byte payload, in place. */
    @Benchmark
    public boolean g711Transcode160Bytes()
    {
        rtp.limit(172).position(0);
        rtp.put(1, (byte)0); // back to PCMU: the transcoder rewrote it to PCMA last time
        return transcoder.transform(rtp, 12);
    }

    /** The forwarding agent's kind of lookup: local port to endpoint in a primitive hash map. */
    @Benchmark
    public Object lookupPrimitiveIndex()
    {
        port = port >= 39998 ? 30000 : port + 2;
        return primitiveIndex.get(port);
    }

    /** The same lookup in the Chronicle Map sessions table, which the agent deliberately does not do per packet. */
    @Benchmark
    public byte[] lookupChronicleMap()
    {
        port = port >= 39998 ? 30000 : port + 2;
        return chronicleIndex.getUsing(port, chronicleValue);
    }

    /** Bencode decode of a typical Kamailio offer (control path). */
    @Benchmark
    public Object bencodeParseKamailioOffer() throws BencodeException
    {
        return Bencode.decode(offer);
    }

    /** SDP parse and rewrite of a typical offer (control path). */
    @Benchmark
    public String sdpRewriteOffer() throws SdpException
    {
        final Sdp sdp = Sdp.parse(KAMAILIO_OFFER_SDP);
        sdp.rewriteSessionConnection("203.0.113.5");
        sdp.rewriteMedia(sdp.media().get(0), "203.0.113.5", 30000);
        sdp.replaceOrigin("203.0.113.5");
        sdp.removeIce();
        return sdp.toString();
    }

    static String text(final byte[] bytes)
    {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
