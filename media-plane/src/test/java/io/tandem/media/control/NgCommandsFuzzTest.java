package io.tandem.media.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.tandem.media.MediaContext;
import io.tandem.media.MediaPlane;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the ng command layer (issue 17): sequences of offers, answers, deletes and queries with fuzzed tags, SDP,
 * flags and options, as a hostile proxy could send them, against a real media plane with a small port range.
 * Whatever comes, every reply is ok, pong, load limit or an error that says what was wrong (never "Internal
 * error"), and once the calls are deleted nothing is left: no call, no port, no record, no socket with the relay.
 * Plain {@code mvn test} replays the saved inputs; {@code JAZZER_FUZZ=1} fuzzes for real.
 */
class NgCommandsFuzzTest
{
    private static final List<String> CALL_IDS = List.of("c1@pbx", "c2@pbx", "");
    private static final List<String> TAGS = List.of("a", "b", "c", "");
    private static final List<String> COMMANDS = List.of("offer", "answer", "delete", "query", "list", "statistics",
        "ping", "tandem-role", "bogus");
    private static final List<String> FLAGS = List.of("trust-address", "symmetric", "asymmetric", "SIP-source-address",
        "port-latching", "no-port-latching", "codec-strip-all", "codec-mask-PCMU", "transcode-PCMA", "transcode-G722",
        "endpoint-learning-off", "endpoint-learning-delayed", "endpoint-learning-bogus", "replace-origin", "fatal",
        "rtcp-mux-offer", "rtcp-mux-demux", "ICE=force", "reset");
    private static final Set<String> RESULTS = Set.of("ok", "pong", "error", "load limit");

    private static final MediaPlane PLANE;
    private static final NgCommands COMMANDS_UNDER_TEST;

    static
    {
        try
        {
            final File dir = Files.createTempDirectory("tandem-ng-fuzz").toFile();
            dir.deleteOnExit();
            PLANE = new MediaPlane(new MediaContext()
                .portRange(26000, 26063)
                .sessionsFile(new File(dir, "sessions.cm3"))
                .countersFile(new File(dir, "counters.dat")));
            COMMANDS_UNDER_TEST = new NgCommands(PLANE.registry(), 0, PLANE.context().maxCalls(), 0).maxStreams(4);
            Runtime.getRuntime().addShutdownHook(new Thread(PLANE::close));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Where the generator's choices come from: Jazzer's data when fuzzing, a seeded Random for the soak. */
    interface Choices
    {
        boolean consumeBoolean();

        int consumeInt(int min, int max);

        long consumeLong(long min, long max);

        String consumeString(int maxLength);

        <T> T pickValue(List<T> values);
    }

    static Choices of(final FuzzedDataProvider data)
    {
        return new Choices()
        {
            public boolean consumeBoolean()
            {
                return data.consumeBoolean();
            }

            public int consumeInt(final int min, final int max)
            {
                return data.consumeInt(min, max);
            }

            public long consumeLong(final long min, final long max)
            {
                return data.consumeLong(min, max);
            }

            public String consumeString(final int maxLength)
            {
                return data.consumeString(maxLength);
            }

            public <T> T pickValue(final List<T> values)
            {
                return data.pickValue(values);
            }
        };
    }

    static Choices of(final java.util.Random random)
    {
        return new Choices()
        {
            public boolean consumeBoolean()
            {
                return random.nextBoolean();
            }

            public int consumeInt(final int min, final int max)
            {
                return min + random.nextInt(max - min + 1);
            }

            public long consumeLong(final long min, final long max)
            {
                return min + (long)random.nextInt((int)(max - min + 1));
            }

            public String consumeString(final int maxLength)
            {
                final char[] chars = new char[random.nextInt(maxLength + 1)];
                for (int i = 0; i < chars.length; i++)
                {
                    chars[i] = (char)(random.nextInt(4) == 0 ? random.nextInt(0x3000) : 32 + random.nextInt(95));
                }
                return new String(chars);
            }

            public <T> T pickValue(final List<T> values)
            {
                return values.get(random.nextInt(values.size()));
            }
        };
    }

    private static String sdp(final Choices data)
    {
        if (data.consumeBoolean())
        {
            return data.consumeString(200); // anything at all
        }
        final StringBuilder sdp = new StringBuilder("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n");
        final String address = data.pickValue(List.of("127.0.0.1", "0.0.0.0", "239.1.1.1", "10.0.0.1", "::1", "x",
            "127.0.0.1/127", ""));
        sdp.append("c=IN ").append(address.contains(":") ? "IP6 " : "IP4 ").append(address).append("\r\nt=0 0\r\n");
        final int sections = data.consumeInt(0, 6);
        for (int i = 0; i < sections; i++)
        {
            sdp.append("m=").append(data.pickValue(List.of("audio", "video", "image"))).append(' ')
                .append(data.pickValue(List.of(0, 5000, 5002, 26000, 26001, 65534, 65535, 1))).append(' ')
                .append(data.pickValue(List.of("RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udptl")))
                .append(data.pickValue(List.of(" 0 8 101", " 8", " 0", "", " 96")))
                .append("\r\n");
            if (data.consumeBoolean())
            {
                sdp.append(data.pickValue(List.of("a=rtcp-mux", "a=rtcp:5001", "a=rtcp:70000", "a=sendonly",
                    "a=recvonly", "a=inactive", "a=rtpmap:101 telephone-event/8000", "a=rtcp:5001 IN IP4 239.1.1.1")))
                    .append("\r\n");
            }
        }
        return sdp.toString();
    }

    private static Map<String, Object> request(final Choices data)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", data.pickValue(COMMANDS));
        if (data.consumeInt(0, 9) > 0)
        {
            request.put("call-id", data.pickValue(CALL_IDS));
        }
        request.put("from-tag", data.pickValue(TAGS));
        if (data.consumeBoolean())
        {
            request.put("to-tag", data.pickValue(TAGS));
        }
        if (data.consumeInt(0, 3) > 0)
        {
            request.put("sdp", sdp(data));
        }
        final List<Object> flags = new ArrayList<>();
        for (int i = data.consumeInt(0, 4); i > 0; i--)
        {
            flags.add(data.consumeBoolean() ? data.pickValue(FLAGS) : data.consumeString(20));
        }
        request.put("flags", flags);
        switch (data.consumeInt(0, 7))
        {
            case 0 -> request.put("direction", List.of(data.consumeString(10), data.consumeString(10)));
            case 1 -> request.put("media address", data.consumeString(20));
            case 2 -> request.put("delete delay", data.consumeLong(-2, 5));
            case 3 -> request.put("codec", Map.of("transcode", List.of(data.consumeString(8)), "strip", data.consumeString(8)));
            case 4 -> request.put("received-from", List.of("IP4", data.consumeString(16)));
            case 5 -> request.put("rtpp-flags", data.consumeString(40));
            case 6 -> request.put("supports", List.of("load limit"));
            default -> request.put(data.consumeString(10), data.consumeString(10));
        }
        return request;
    }

    @FuzzTest(maxDuration = "30s")
    void anySequenceOfCommandsGetsClearRepliesAndLeavesNothingBehind(final FuzzedDataProvider data)
    {
        runSequence(of(data));
    }

    /**
     * The hostile soak, in every CI run (the fuzz target there replays only its saved inputs): 100,000 commands from
     * the same generator, seeded, in sequences of one to eight, each sequence checked as above.
     */
    @org.junit.jupiter.api.Test
    void aHundredThousandHostileCommandsGetClearRepliesAndLeaveNothingBehind()
    {
        final java.util.Random random = new java.util.Random(20261207);
        final Choices choices = of(random);
        long commands = 0;
        while (commands < 100_000)
        {
            commands += runSequence(choices);
        }
    }

    /** @return the commands sent, deletes included */
    static int runSequence(final Choices data)
    {
        int sent = 0;
        for (int i = data.consumeInt(1, 8); i > 0; i--, sent++)
        {
            final Map<String, Object> reply = COMMANDS_UNDER_TEST.execute(request(data));
            final Object result = reply.get("result");
            assertTrue(RESULTS.contains(result), "result: " + reply);
            if ("error".equals(result))
            {
                final String reason = String.valueOf(reply.get("error-reason"));
                assertFalse(reason.startsWith("Internal error"), reason);
            }
        }
        for (final String callId : CALL_IDS)
        {
            final Map<String, Object> delete = new LinkedHashMap<>();
            delete.put("command", "delete");
            delete.put("call-id", callId);
            delete.put("delete delay", 0L);
            COMMANDS_UNDER_TEST.execute(delete);
            sent++;
        }
        assertEquals(0, PLANE.registry().callCount(), "no call left");
        assertEquals(PLANE.registry().ports().capacity(), PLANE.registry().ports().available(), "no port left");
        assertEquals(0, PLANE.registry().storedCalls(), "no record left");
        assertEquals(0, PLANE.registry().publishedEndpoints(), "no socket left with the relay");
        return sent;
    }
}
