package io.tandem.ng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

class BencodeTest
{
    private static Object decode(final String text) throws BencodeException
    {
        return Bencode.decode(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String error(final String text)
    {
        return assertThrows(BencodeException.class, () -> decode(text), text).getMessage();
    }

    @Test
    void decodesAKamailioOfferWithKeysInArrivalOrder() throws Exception
    {
        final Object value = decode("d3:sdp12:v=0\r\no=- 1\r\n7:call-id6:abc@h18:from-tag2:ft7:command5:offer" +
            "8:supportsl10:load limite13:received-froml3:IP49:127.0.0.1e5:flagsl13:trust addressee");
        final Map<?, ?> dict = (Map<?, ?>)value;
        assertEquals(List.of("sdp", "call-id", "from-tag", "command", "supports", "received-from", "flags"),
            List.copyOf(dict.keySet()));
        assertEquals("v=0\r\no=- 1\r\n", dict.get("sdp"));
        assertEquals(List.of("IP4", "127.0.0.1"), dict.get("received-from"));
    }

    @Test
    void decodesIntegersAndNestedValues() throws Exception
    {
        assertEquals(42L, decode("i42e"));
        assertEquals(-7L, decode("i-7e"));
        assertEquals(0L, decode("i0e"));
        assertEquals(Long.MAX_VALUE, decode("i9223372036854775807e"));
        assertEquals(List.of(List.of(), Map.of()), decode("lledee"));
        assertEquals("", decode("0:"));
    }

    @Test
    void keepsEveryByteOfAString() throws Exception
    {
        final byte[] bytes = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            bytes[i] = (byte)i;
        }
        final Object decoded = Bencode.decode(Bencode.encode(bytes));
        assertArrayEquals(bytes, ((String)decoded).getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void encodesInInsertionOrder()
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", "ok");
        reply.put("sdp", "v=0\r\n");
        reply.put("count", 3L);
        reply.put("tags", List.of("a", 1));
        assertEquals("d6:result2:ok3:sdp5:v=0\r\n5:counti3e4:tagsl1:ai1eee",
            new String(Bencode.encode(reply), StandardCharsets.ISO_8859_1));
    }

    @Test
    void malformedInputIsRejectedWithTheReason()
    {
        assertTrue(error("").contains("truncated"));
        assertTrue(error("d7:command4:ping").contains("dictionary not closed"));
        assertTrue(error("d7:command").contains("truncated"));
        assertTrue(error("l").contains("list not closed"));
        assertTrue(error("i12").contains("integer not closed"));
        assertTrue(error("i1x2e").contains("bad integer"));
        assertTrue(error("ie").contains("bad integer"));
        assertTrue(error("i-0e").contains("bad integer"));
        assertTrue(error("i00000000000000000001e").contains("integer too long"));
        assertTrue(error("i99999999999999999999e").contains("out of range"));
        assertTrue(error("i9223372036854775808e").contains("out of range"));
        assertTrue(error("5:abc").contains("runs past the end"));
        assertTrue(error("99999999999:a").contains("bad string length"));
        assertTrue(error("4294967296:a").contains("runs past the end"));
        assertTrue(error("3abc").contains("bad string length"));
        assertTrue(error("di1ei2ee").contains("key must be a string"));
        assertTrue(error("d1:ai1e1:ai2ee").contains("duplicate"));
        assertTrue(error("x").contains("unexpected byte"));
        assertTrue(error("i1ei2e").contains("trailing data"));
        assertTrue(error("l".repeat(17) + "e".repeat(17)).contains("nested deeper"));
        assertEquals(List.of(), unwrap(16));
    }

    private static Object unwrap(final int depth)
    {
        try
        {
            Object value = decode("l".repeat(depth) + "e".repeat(depth));
            for (int i = 1; i < depth; i++)
            {
                value = ((List<?>)value).get(0);
            }
            return value;
        }
        catch (final BencodeException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void anyBytesDecodeToAValueOrAClearError(final FuzzedDataProvider data)
    {
        final byte[] bytes = data.consumeRemainingAsBytes();
        final Object value;
        try
        {
            value = Bencode.decode(bytes);
        }
        catch (final BencodeException expected)
        {
            return;
        }
        try
        {
            assertEquals(value, Bencode.decode(Bencode.encode(value)), "what decodes must round-trip");
        }
        catch (final BencodeException ex)
        {
            throw new AssertionError("re-encoded value does not decode", ex);
        }
    }
}
