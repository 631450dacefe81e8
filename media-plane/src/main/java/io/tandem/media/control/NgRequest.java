package io.tandem.media.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reading an ng request dictionary: typed values of its keys, its flags (the {@code flags} list and Kamailio's
 * space-separated {@code rtpp-flags} as one set), and the keys and flags this implementation does not know, which
 * are reported in a warning rather than refused, so newer clients keep working.
 */
final class NgRequest
{
    /** Keys this implementation reads or knowingly accepts. */
    private static final Set<String> KNOWN_KEYS = Set.of(
        "command", "call-id", "from-tag", "to-tag", "via-branch", "sdp", "supports", "sip-message-type", "received-from",
        "direction", "replace", "ICE", "rtcp-mux", "transport-protocol", "transport protocol", "codec", "flags",
        "rtpp-flags", "endpoint-learning", "delete delay", "delete-delay", "media address", "media-address", "limit",
        "sip_message_type", "call-id-hash", "address family", "label", "role");

    private static final Set<String> KNOWN_FLAGS = Set.of(
        "trust address", "trust-address", "symmetric", "asymmetric", "strict source", "strict-source", "port latching",
        "port-latching", "no port latching", "no-port-latching", "sip source address", "sip-source-address",
        "SIP source address", "SIP-source-address", "reset", "early media", "early-media", "fatal", "loop protect",
        "loop-protect", "record call", "record-call");

    private NgRequest()
    {
    }

    static Map<String, Object> result(final String result)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", result);
        return reply;
    }

    static String string(final Map<String, Object> request, final String key) throws NgException
    {
        final Object value = request.get(key);
        if (value == null)
        {
            throw new NgException("No " + key + " in message");
        }
        if (!(value instanceof String s))
        {
            throw new NgException("Invalid " + key + ": must be a string");
        }
        if (s.isEmpty() && !key.equals("to-tag") && !key.equals("from-tag"))
        {
            throw new NgException("Invalid " + key + ": empty");
        }
        return s;
    }

    static String optionalString(final Map<String, Object> request, final String... keys)
    {
        for (final String key : keys)
        {
            if (request.get(key) instanceof String s)
            {
                return s;
            }
        }
        return null;
    }

    /** A list of strings; a single string counts as a one-element list; anything else as empty. */
    static List<String> list(final Map<String, Object> request, final String key)
    {
        final Object value = request.get(key);
        if (value instanceof String s)
        {
            return List.of(s);
        }
        if (!(value instanceof List<?> items))
        {
            return List.of();
        }
        final List<String> strings = new ArrayList<>();
        for (final Object item : items)
        {
            if (item instanceof String s)
            {
                strings.add(s);
            }
        }
        return strings;
    }

    /** flags plus rtpp-flags (one space-separated string, as Kamailio's newer modules send). */
    static Set<String> flags(final Map<String, Object> request)
    {
        final Set<String> flags = new LinkedHashSet<>(list(request, "flags"));
        if (request.get("rtpp-flags") instanceof String rtpp)
        {
            for (final String flag : rtpp.trim().split("\\s+"))
            {
                if (!flag.isEmpty())
                {
                    flags.add(flag);
                }
            }
        }
        return flags;
    }

    static void warnUnknownKeys(final Map<String, Object> request, final List<String> warnings)
    {
        final List<String> unknown = new ArrayList<>();
        for (final String key : request.keySet())
        {
            if (!KNOWN_KEYS.contains(key))
            {
                unknown.add(key);
            }
        }
        for (final String flag : flags(request))
        {
            if (!KNOWN_FLAGS.contains(flag) && !flag.startsWith("endpoint-learning-") && !flag.startsWith("transcode-") &&
                !flag.startsWith("codec-") &&
                !flag.startsWith("replace-") && !flag.startsWith("ICE=") && !flag.contains("="))
            {
                unknown.add("flag " + flag);
            }
        }
        if (!unknown.isEmpty())
        {
            warnings.add("Ignored: " + String.join(", ", unknown));
        }
    }
}
