package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

class JsonTest
{
    @Test
    void decodesAnNgOfferInArrivalOrder() throws Exception
    {
        final Object value = Json.decode("{ \"command\": \"offer\", \"call-id\": \"c1\", \"from-tag\": \"a\", " +
            "\"sdp\": \"v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\n\", \"flags\": [\"trust address\"], \"delete delay\": 5, " +
            "\"ICE\": null, \"early\": true, \"ratio\": 1.5, \"name\": \"caf\\u00e9\" }");
        final Map<?, ?> dict = (Map<?, ?>)value;
        assertEquals(List.of("command", "call-id", "from-tag", "sdp", "flags", "delete delay", "early", "ratio", "name"),
            List.copyOf(dict.keySet()), "null drops the key");
        assertEquals("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", dict.get("sdp"));
        assertEquals(5L, dict.get("delete delay"));
        assertEquals("true", dict.get("early"));
        assertEquals("1.5", dict.get("ratio"));
        assertEquals("café", dict.get("name"));
    }

    @Test
    void encodesRepliesAsJson()
    {
        final Map<String, Object> reply = new java.util.LinkedHashMap<>();
        reply.put("result", "ok");
        reply.put("sdp", "v=0\r\n\"x\"");
        reply.put("calls", List.of("a", 2L));
        assertEquals("{\"result\":\"ok\",\"sdp\":\"v=0\\r\\n\\\"x\\\"\",\"calls\":[\"a\",2]}", Json.encode(reply));
    }

    private static String error(final String text)
    {
        return assertThrows(JsonException.class, () -> Json.decode(text), text).getMessage();
    }

    @Test
    void malformedJsonIsRejectedWithTheReason()
    {
        assertTrue(error("").contains("truncated"));
        assertTrue(error("{\"a\": 1").contains("truncated"));
        assertTrue(error("{\"a\" 1}").contains("':' expected"));
        assertTrue(error("{a: 1}").contains("key must be a string"));
        assertTrue(error("{\"a\": 1,}").contains("key must be a string"));
        assertTrue(error("[1 2]").contains("',' or ']' expected"));
        assertTrue(error("{\"a\": tru}").contains("bad literal"));
        assertTrue(error("\"\\x\"").contains("bad escape"));
        assertTrue(error("\"\\u12\"").contains("escape"));
        assertTrue(error("\"a\nb\"").contains("control character"));
        assertTrue(error("-").contains("bad number"));
        assertTrue(error("{\"a\": 1, \"a\": 2}").contains("duplicate key"));
        assertTrue(error("{} {}").contains("trailing data"));
        assertTrue(error("[".repeat(17) + "]".repeat(17)).contains("nested deeper"));
    }

    @FuzzTest(maxDuration = "30s")
    void anyTextDecodesToAValueOrAClearError(final FuzzedDataProvider data)
    {
        final String text = data.consumeRemainingAsString();
        final Object value;
        try
        {
            value = Json.decode(text);
        }
        catch (final JsonException expected)
        {
            return;
        }
        try
        {
            assertEquals(value, Json.decode(Json.encode(value)), "what decodes must round-trip");
        }
        catch (final JsonException ex)
        {
            throw new AssertionError("re-encoded JSON does not decode: " + Json.encode(value), ex);
        }
    }
}
