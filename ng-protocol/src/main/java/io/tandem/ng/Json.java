package io.tandem.ng;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of ng dictionaries (rtpengine accepts either): decodes to the same values as {@link Bencode}
 * (String, Long, List, Map with keys in arrival order; true/false become the strings "true"/"false", null drops
 * the key) and encodes replies. Bounded like Bencode: nesting depth and the message size of the datagram.
 */
public final class Json
{
    private final String text;
    private int position;

    private Json(final String text)
    {
        this.text = text;
    }

    /** @throws JsonException naming what is wrong and where */
    public static Object decode(final String text) throws JsonException
    {
        final Json parser = new Json(text);
        parser.skipSpace();
        final Object value = parser.value(0);
        parser.skipSpace();
        if (parser.position != text.length())
        {
            throw new JsonException("JSON: trailing data at offset " + parser.position);
        }
        if (value == NULL)
        {
            throw new JsonException("JSON: null is not a message");
        }
        return value;
    }

    private void skipSpace()
    {
        while (position < text.length() && " \t\r\n".indexOf(text.charAt(position)) >= 0)
        {
            position++;
        }
    }

    private JsonException error(final String what)
    {
        return new JsonException("JSON: " + what + " at offset " + position);
    }

    private char peek() throws JsonException
    {
        if (position >= text.length())
        {
            throw error("truncated");
        }
        return text.charAt(position);
    }

    private Object value(final int depth) throws JsonException
    {
        final char c = peek();
        if ((c == '{' || c == '[') && depth >= Bencode.MAX_DEPTH)
        {
            throw error("nested deeper than " + Bencode.MAX_DEPTH);
        }
        return switch (c)
        {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> string();
            case 't' -> literal("true", "true");
            case 'f' -> literal("false", "false");
            case 'n' -> literal("null", null);
            default ->
            {
                if (c == '-' || (c >= '0' && c <= '9'))
                {
                    yield number();
                }
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Object literal(final String word, final Object value) throws JsonException
    {
        if (!text.startsWith(word, position))
        {
            throw error("bad literal");
        }
        position += word.length();
        return value == null ? NULL : value;
    }

    private static final Object NULL = new Object();

    private Map<String, Object> object(final int depth) throws JsonException
    {
        position++; // {
        final Map<String, Object> object = new LinkedHashMap<>();
        skipSpace();
        if (peek() == '}')
        {
            position++;
            return object;
        }
        while (true)
        {
            skipSpace();
            if (peek() != '"')
            {
                throw error("object key must be a string");
            }
            final String key = string();
            skipSpace();
            if (peek() != ':')
            {
                throw error("':' expected");
            }
            position++;
            skipSpace();
            final Object value = value(depth);
            if (value != NULL && object.putIfAbsent(key, value) != null)
            {
                throw error("duplicate key '" + key + "'");
            }
            skipSpace();
            final char next = peek();
            position++;
            if (next == '}')
            {
                return object;
            }
            if (next != ',')
            {
                throw error("',' or '}' expected");
            }
        }
    }

    private List<Object> array(final int depth) throws JsonException
    {
        position++; // [
        final List<Object> array = new ArrayList<>();
        skipSpace();
        if (peek() == ']')
        {
            position++;
            return array;
        }
        while (true)
        {
            skipSpace();
            final Object value = value(depth);
            if (value != NULL)
            {
                array.add(value);
            }
            skipSpace();
            final char next = peek();
            position++;
            if (next == ']')
            {
                return array;
            }
            if (next != ',')
            {
                throw error("',' or ']' expected");
            }
        }
    }

    private String string() throws JsonException
    {
        position++; // "
        final StringBuilder out = new StringBuilder();
        while (true)
        {
            final char c = peek();
            position++;
            if (c == '"')
            {
                return out.toString();
            }
            if (c < 0x20)
            {
                throw error("control character in string");
            }
            if (c != '\\')
            {
                out.append(c);
                continue;
            }
            final char escape = peek();
            position++;
            switch (escape)
            {
                case '"', '\\', '/' -> out.append(escape);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' ->
                {
                    if (position + 4 > text.length())
                    {
                        throw error("truncated \\u escape");
                    }
                    try
                    {
                        out.append((char)Integer.parseInt(text.substring(position, position + 4), 16));
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw error("bad \\u escape");
                    }
                    position += 4;
                }
                default -> throw error("bad escape '\\" + escape + "'");
            }
        }
    }

    private Object number() throws JsonException
    {
        final int start = position;
        if (peek() == '-')
        {
            position++;
        }
        while (position < text.length() && "0123456789.eE+-".indexOf(text.charAt(position)) >= 0)
        {
            position++;
        }
        final String digits = text.substring(start, position);
        try
        {
            return Long.parseLong(digits);
        }
        catch (final NumberFormatException notAnInteger)
        {
            try
            {
                Double.parseDouble(digits);
                return digits; // a non-integral number: kept as its text
            }
            catch (final NumberFormatException ex)
            {
                position = start;
                throw error("bad number '" + digits + "'");
            }
        }
    }

    /** Encode a reply: String, Number, List and Map values, as JSON text. */
    public static String encode(final Object value)
    {
        final StringBuilder out = new StringBuilder(256);
        encode(value, out);
        return out.toString();
    }

    private static void encode(final Object value, final StringBuilder out)
    {
        switch (value)
        {
            case String s -> quote(s, out);
            case Long l -> out.append(l);
            case Integer i -> out.append(i);
            case List<?> list ->
            {
                out.append('[');
                for (int i = 0; i < list.size(); i++)
                {
                    out.append(i == 0 ? "" : ",");
                    encode(list.get(i), out);
                }
                out.append(']');
            }
            case Map<?, ?> map ->
            {
                out.append('{');
                boolean first = true;
                for (final Map.Entry<?, ?> entry : map.entrySet())
                {
                    out.append(first ? "" : ",");
                    first = false;
                    quote((String)entry.getKey(), out);
                    out.append(':');
                    encode(entry.getValue(), out);
                }
                out.append('}');
            }
            default -> throw new IllegalArgumentException("cannot encode " + value.getClass().getName() + " as JSON");
        }
    }

    private static void quote(final String s, final StringBuilder out)
    {
        out.append('"');
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            switch (c)
            {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default ->
                {
                    if (c < 0x20 || c > 0x7E)
                    {
                        out.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
