package io.tandem.media.session;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.tandem.media.relay.LatchMode;

/**
 * What survives a restart of one call: its monologues (tag, subscriber), their streams' local ports, the
 * signalling that configured them and the addresses the relay latched onto where they differ from the signalled
 * ones (NAT). Sockets are rebuilt from it. Encoded as a small versioned binary record for {@link SessionStore};
 * records of the previous version are still read.
 */
public record CallRecord(String callId, List<MonologueRecord> monologues)
{
    /**
     * What the sessions file is laid out for, per call, from measured records (SessionsSizingTest): Call-IDs as
     * user agents make them run from 36 bytes (a bare UUID) to about 100 (an SBC's), and a two-party call with audio
     * and video encodes to 370-430 bytes; the file holds --max-calls of those with room to spare.
     */
    static final int AVERAGE_CALL_ID_LENGTH = 64;
    static final int AVERAGE_ENCODED_LENGTH = 512;
    private static final int VERSION = 6;
    /** Version 5 had no learned addresses. */
    private static final int PREVIOUS_VERSION = 5;

    public record MonologueRecord(String tag, String subscriberTag, List<StreamRecord> streams)
    {
    }

    /**
     * @param spec the last signalling for this stream, or null before its party has signalled (offer only).
     * @param rtpLearned where the relay latched this stream's RTP onto, if not the signalled address; or null.
     * @param rtcpLearned the same for RTCP.
     */
    public record StreamRecord(String interfaceName, int localRtpPort, StreamSpec spec, InetSocketAddress rtpLearned,
        InetSocketAddress rtcpLearned)
    {
        public StreamRecord(final String interfaceName, final int localRtpPort, final StreamSpec spec)
        {
            this(interfaceName, localRtpPort, spec, null, null);
        }
    }

    public static CallRecord of(final Call call)
    {
        final List<MonologueRecord> monologues = new ArrayList<>();
        for (final Monologue monologue : call.monologues.values())
        {
            final List<StreamRecord> streams = new ArrayList<>();
            for (final MediaStream stream : monologue.streams)
            {
                streams.add(new StreamRecord(stream.iface.name(), stream.port, stream.spec, stream.rtpLearned,
                    stream.rtcpLearned));
            }
            monologues.add(new MonologueRecord(
                monologue.tag, monologue.subscriber == null ? null : monologue.subscriber.tag, streams));
        }
        return new CallRecord(call.callId, monologues);
    }

    public byte[] encode()
    {
        return encode(VERSION);
    }

    /** Encode as {@code version} wrote it (the previous version for upgrade tests: learned addresses left out). */
    byte[] encode(final int version)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(AVERAGE_ENCODED_LENGTH);
        try (DataOutputStream out = new DataOutputStream(bytes))
        {
            out.writeByte(version);
            out.writeUTF(callId);
            out.writeShort(monologues.size());
            for (final MonologueRecord monologue : monologues)
            {
                out.writeUTF(monologue.tag());
                writeNullableUtf(out, monologue.subscriberTag());
                out.writeShort(monologue.streams().size());
                for (final StreamRecord stream : monologue.streams())
                {
                    out.writeUTF(stream.interfaceName());
                    out.writeShort(stream.localRtpPort());
                    final StreamSpec spec = stream.spec();
                    out.writeBoolean(spec != null);
                    if (spec != null)
                    {
                        writeAddress(out, spec.rtp());
                        writeAddress(out, spec.rtcp());
                        out.writeBoolean(spec.rtcpMux());
                        out.writeByte(spec.latchMode() == null ? -1 : latchCode(spec.latchMode()));
                        out.writeBoolean(spec.strictSource());
                        out.writeBoolean(spec.asymmetric());
                        writeNullableUtf(out, spec.transcode());
                        writeNullableUtf(out, spec.mediaType());
                        writeNullableUtf(out, spec.protocol());
                        writeNullableUtf(out, spec.formats());
                        out.writeBoolean(spec.sends());
                    }
                    if (version >= 6)
                    {
                        writeAddress(out, stream.rtpLearned());
                        writeAddress(out, stream.rtcpLearned());
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return bytes.toByteArray();
    }

    /**
     * Whether {@code other} has the same streams on the same interfaces and ports, grouped into parties the same way,
     * and the same parties talking to each other; tags may differ (an answer names the party the offer left
     * unnamed). Then only tags, signalling and latched addresses differ, and a mirror updates the call in place.
     */
    public boolean sameStreamsAs(final CallRecord other)
    {
        final Map<List<String>, List<String>> mine = shape();
        return mine != null && mine.equals(other.shape());
    }

    /**
     * What a call is apart from its tags and signalling: each party's streams (interface and port), mapped to those
     * of the party it talks to. Null if two parties cannot be told apart by their streams (none yet, say).
     */
    private Map<List<String>, List<String>> shape()
    {
        final Map<String, List<String>> streamsByTag = new HashMap<>();
        for (final MonologueRecord monologue : monologues)
        {
            streamsByTag.put(monologue.tag(), streamsOf(monologue));
        }
        final Map<List<String>, List<String>> shape = new HashMap<>();
        for (final MonologueRecord monologue : monologues)
        {
            final String subscriber = monologue.subscriberTag();
            shape.put(streamsByTag.get(monologue.tag()), subscriber == null ? List.of() :
                streamsByTag.getOrDefault(subscriber, List.of("unknown party " + subscriber)));
        }
        return shape.size() == monologues.size() ? shape : null;
    }

    /** A party's streams, each named by its interface and port, in order: how {@link #sameStreamsAs} knows them. */
    static List<String> streamsOf(final MonologueRecord monologue)
    {
        final List<String> streams = new ArrayList<>(monologue.streams().size());
        for (final StreamRecord stream : monologue.streams())
        {
            streams.add(stream.interfaceName() + "/" + stream.localRtpPort());
        }
        return streams;
    }

    /** Whether {@code encoded} announces a format newer than this version of Tandem reads. */
    public static boolean newerFormat(final byte[] encoded)
    {
        return encoded.length > 0 && (encoded[0] & 0xff) > VERSION;
    }

    /** @throws IllegalArgumentException if the bytes are not a record this version wrote. */
    public static CallRecord decode(final byte[] encoded)
    {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded)))
        {
            final int version = in.readUnsignedByte();
            if (version != VERSION && version != PREVIOUS_VERSION)
            {
                throw new IllegalArgumentException("unknown call record version " + version);
            }
            final String callId = in.readUTF();
            final int monologueCount = in.readUnsignedShort();
            final List<MonologueRecord> monologues = new ArrayList<>(monologueCount);
            for (int m = 0; m < monologueCount; m++)
            {
                final String tag = in.readUTF();
                final String subscriberTag = readNullableUtf(in);
                final int streamCount = in.readUnsignedShort();
                final List<StreamRecord> streams = new ArrayList<>(streamCount);
                for (int s = 0; s < streamCount; s++)
                {
                    final String interfaceName = in.readUTF();
                    final int port = in.readUnsignedShort();
                    StreamSpec spec = null;
                    if (in.readBoolean())
                    {
                        final InetSocketAddress rtp = readAddress(in);
                        final InetSocketAddress rtcp = readAddress(in);
                        final boolean rtcpMux = in.readBoolean();
                        final int latch = in.readByte();
                        final boolean strict = in.readBoolean();
                        final boolean asymmetric = in.readBoolean();
                        final String transcode = readNullableUtf(in);
                        final String mediaType = readNullableUtf(in);
                        final String protocol = readNullableUtf(in);
                        final String formats = readNullableUtf(in);
                        final boolean sends = in.readBoolean();
                        spec = new StreamSpec(rtp, rtcp, rtcpMux, latch < 0 ? null : latchMode(latch),
                            strict, asymmetric, transcode, mediaType, protocol, formats, sends);
                    }
                    final InetSocketAddress rtpLearned = version >= 6 ? readAddress(in) : null;
                    final InetSocketAddress rtcpLearned = version >= 6 ? readAddress(in) : null;
                    streams.add(new StreamRecord(interfaceName, port, spec, rtpLearned, rtcpLearned));
                }
                monologues.add(new MonologueRecord(tag, subscriberTag, streams));
            }
            return new CallRecord(callId, monologues);
        }
        catch (final IOException | ArrayIndexOutOfBoundsException ex)
        {
            throw new IllegalArgumentException("corrupt call record: " + ex.getMessage(), ex);
        }
    }

    /** The code a latch mode has in the record: fixed here, whatever order the enum's constants take. */
    static int latchCode(final LatchMode mode)
    {
        return switch (mode)
        {
            case OFF -> 0;
            case IMMEDIATE -> 1;
            case DELAYED -> 2;
            case HEURISTIC -> 3;
        };
    }

    static LatchMode latchMode(final int code) throws IOException
    {
        return switch (code)
        {
            case 0 -> LatchMode.OFF;
            case 1 -> LatchMode.IMMEDIATE;
            case 2 -> LatchMode.DELAYED;
            case 3 -> LatchMode.HEURISTIC;
            default -> throw new IOException("unknown latch mode code " + code);
        };
    }

    private static void writeNullableUtf(final DataOutputStream out, final String value) throws IOException
    {
        out.writeBoolean(value != null);
        if (value != null)
        {
            out.writeUTF(value);
        }
    }

    private static String readNullableUtf(final DataInputStream in) throws IOException
    {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeAddress(final DataOutputStream out, final InetSocketAddress address) throws IOException
    {
        if (address == null)
        {
            out.writeByte(0);
            return;
        }
        final byte[] ip = address.getAddress().getAddress();
        out.writeByte(ip.length);
        out.write(ip);
        out.writeShort(address.getPort());
    }

    private static InetSocketAddress readAddress(final DataInputStream in) throws IOException
    {
        final int length = in.readUnsignedByte();
        if (length == 0)
        {
            return null;
        }
        if (length != 4 && length != 16)
        {
            throw new IOException("bad address length " + length);
        }
        final byte[] ip = in.readNBytes(length);
        if (ip.length != length)
        {
            throw new IOException("truncated address");
        }
        return new InetSocketAddress(InetAddress.getByAddress(ip), in.readUnsignedShort());
    }
}
