package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

class NgFlagsTest
{
    private static Map<String, Object> request(final Object... keysAndValues)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "offer");
        for (int i = 0; i < keysAndValues.length; i += 2)
        {
            request.put((String)keysAndValues[i], keysAndValues[i + 1]);
        }
        return request;
    }

    @Test
    void flagsListAndRtppFlagsAreOneSetMatchedAsRtpengineMatchesThem()
    {
        final NgFlags flags = NgFlags.parse(request(
            "flags", List.of("trust-address", "SIP source address"),
            "rtpp-flags", "  asymmetric   strict_source port-latching loop-protect fatal "));
        assertTrue(flags.trustAddress());
        assertTrue(flags.sipSourceAddress());
        assertTrue(flags.asymmetric());
        assertTrue(flags.strictSource());
        assertTrue(flags.portLatching());
        assertTrue(flags.loopProtect());
        assertTrue(flags.fatal());
        assertFalse(flags.symmetric());
        assertEquals(List.of(), flags.ignored());
    }

    @Test
    void valuedFlagsKeepTheirValueAsGiven()
    {
        final NgFlags flags = NgFlags.parse(request(
            "endpoint-learning", "delayed",
            "flags", List.of("codec-strip-telephone-event", "codec-mask-G722", "transcode-PCMU", "codec-transcode-PCMA",
                "endpoint-learning-heuristic", "replace-origin", "rtcp-mux-demux", "ICE=remove"),
            "codec", Map.of("strip", List.of("opus"), "mask", "G729")));
        assertEquals(List.of("opus", "telephone-event"), flags.strip());
        assertEquals(List.of("G729", "G722"), flags.mask());
        assertEquals(List.of("PCMU", "PCMA"), flags.transcode());
        assertEquals("heuristic", flags.endpointLearning(), "the flag wins over the key");
        assertTrue(flags.replaces(NgFlags.Replace.ORIGIN));
        assertTrue(flags.rtcpMux(NgFlags.RtcpMux.DEMUX));
        assertEquals("remove", flags.ice());
    }

    @Test
    void dictionaryKeysThatActAsFlags()
    {
        final NgFlags flags = NgFlags.parse(request(
            "replace", List.of("origin", "session-connection", "SDP version", "teleport"),
            "rtcp-mux", List.of("offer", "sideways"),
            "ICE", "force",
            "direction", List.of("external", "internal"),
            "received-from", List.of("IP4", "192.0.2.9"),
            "media address", "198.51.100.4",
            "supports", List.of("load limit")));
        assertTrue(flags.replaces(NgFlags.Replace.ORIGIN));
        assertTrue(flags.replaces(NgFlags.Replace.SESSION_CONNECTION));
        assertTrue(flags.replaces(NgFlags.Replace.SDP_VERSION));
        assertFalse(flags.replaces(NgFlags.Replace.SESSION_NAME));
        assertTrue(flags.rtcpMux(NgFlags.RtcpMux.OFFER));
        assertEquals("force", flags.ice());
        assertEquals(List.of("external", "internal"), flags.direction());
        assertEquals("internal", flags.directionOf(1));
        assertEquals(List.of("IP4", "192.0.2.9"), flags.receivedFrom());
        assertEquals("198.51.100.4", flags.mediaAddress());
        assertTrue(flags.supportsLoadLimit());
        assertEquals(List.of("replace teleport", "rtcp-mux sideways"), flags.ignored());
    }

    @Test
    void unknownKeysAndFlagsAreKeptForAWarningNotRefused()
    {
        final NgFlags flags = NgFlags.parse(request("shiny-new-key", "yes", "flags", List.of("teleport", "x=1"),
            "rtpp-flags", "wobble"));
        assertEquals(List.of("shiny-new-key", "flag teleport", "flag wobble"), flags.ignored(),
            "name=value flags are rtpengine's generic options: accepted silently");
    }

    /** Malformed requests: values of the wrong type count as absent; nothing throws. */
    @Test
    void valuesOfTheWrongTypeCountAsAbsent()
    {
        final NgFlags flags = NgFlags.parse(request(
            "flags", 7L,
            "rtpp-flags", List.of("symmetric"),
            "replace", Map.of("origin", 1L),
            "rtcp-mux", List.of(1L, List.of("demux")),
            "codec", "strip",
            "ICE", List.of("remove"),
            "direction", 3L,
            "supports", Map.of()));
        assertFalse(flags.symmetric());
        assertFalse(flags.replaces(NgFlags.Replace.ORIGIN));
        assertFalse(flags.rtcpMux(NgFlags.RtcpMux.DEMUX));
        assertEquals(List.of(), flags.strip());
        assertNull(flags.ice());
        assertEquals(List.of(), flags.direction());
        assertNull(flags.directionOf(0));
        assertFalse(flags.supportsLoadLimit());
        assertEquals(List.of(), flags.ignored());
    }

    @Test
    void noPortLatchingUndoesPortLatching()
    {
        assertFalse(NgFlags.parse(request("flags", List.of("port latching", "no-port-latching"))).portLatching());
        assertTrue(NgFlags.parse(request("rtpp-flags", "")).ignored().isEmpty());
    }

    /** Whatever a client sends that decodes as bencode, the flags parse, and everything unknown is accounted for. */
    @FuzzTest(maxDuration = "30s")
    void anyRequestParsesWithoutFailing(final FuzzedDataProvider data)
    {
        final Object value;
        try
        {
            value = Bencode.decode(data.consumeRemainingAsBytes());
        }
        catch (final BencodeException ex)
        {
            return;
        }
        if (value instanceof Map<?, ?> map)
        {
            @SuppressWarnings("unchecked")
            final NgFlags flags = NgFlags.parse((Map<String, Object>)map);
            for (final String ignored : flags.ignored())
            {
                assertTrue(map.containsKey(ignored) || ignored.startsWith("flag ") || ignored.startsWith("replace ") ||
                    ignored.startsWith("rtcp-mux "), "an ignored entry names a key, flag or value: " + ignored);
            }
        }
    }
}
