package io.tandem.ng;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The options of one ng request, parsed once into typed values, as rtpengine parses its flags into one struct: the
 * {@code flags} list, Kamailio's space-separated {@code rtpp-flags}, and the dictionary keys that act as flags
 * ({@code replace}, {@code rtcp-mux}, {@code ICE}, {@code codec}, {@code direction}, ...). Names are matched as
 * rtpengine matches them: case, '-', '_' and ' ' make no difference ("SIP-source-address" is "sip source address").
 * What the parser does not know is kept in {@link #ignored()}, to be reported in a warning rather than refused, so
 * newer clients keep working. Parsing never fails: values of the wrong type count as absent.
 */
public final class NgFlags
{
    /** What {@code replace} may ask to rewrite in the SDP. */
    public enum Replace
    {
        ORIGIN, SESSION_CONNECTION, SESSION_NAME, SDP_VERSION
    }

    /** What {@code rtcp-mux} may ask for. */
    public enum RtcpMux
    {
        OFFER, ACCEPT, DEMUX, REJECT, REQUIRE
    }

    /** Dictionary keys the media plane reads or knowingly accepts. */
    private static final Set<String> KNOWN_KEYS = Set.of(
        "command", "call id", "from tag", "to tag", "via branch", "sdp", "supports", "sip message type", "received from",
        "direction", "replace", "ice", "rtcp mux", "transport protocol", "codec", "flags", "rtpp flags",
        "endpoint learning", "delete delay", "media address", "limit", "call id hash", "address family", "label", "role");

    private boolean trustAddress;
    private boolean symmetric;
    private boolean asymmetric;
    private boolean strictSource;
    private boolean portLatching;
    private boolean sipSourceAddress;
    private boolean reset;
    private boolean earlyMedia;
    private boolean fatal;
    private boolean loopProtect;
    private boolean recordCall;
    private boolean supportsLoadLimit;
    private String endpointLearning;
    private String ice;
    private String mediaAddress;
    private List<String> receivedFrom = List.of();
    private List<String> direction = List.of();
    private final List<String> transcode = new ArrayList<>();
    private final List<String> strip = new ArrayList<>();
    private final List<String> mask = new ArrayList<>();
    private final Set<Replace> replace = EnumSet.noneOf(Replace.class);
    private final Set<RtcpMux> rtcpMux = EnumSet.noneOf(RtcpMux.class);
    private final List<String> ignored = new ArrayList<>();

    private NgFlags()
    {
    }

    /** A name as rtpengine compares it: lower case, with '-' and '_' read as ' '. Same length as the name given. */
    static String normalize(final String name)
    {
        return name.toLowerCase(Locale.ROOT).replace('-', ' ').replace('_', ' ');
    }

    /** Parse a request dictionary (as {@link Bencode} or {@link Json} decoded it). */
    public static NgFlags parse(final Map<String, Object> request)
    {
        final NgFlags flags = new NgFlags();
        for (final Map.Entry<String, Object> entry : request.entrySet())
        {
            flags.key(normalize(entry.getKey()), entry.getKey(), entry.getValue());
        }
        for (final String flag : strings(request.get("flags")))
        {
            flags.flag(flag);
        }
        if (request.get("rtpp-flags") instanceof String rtpp)
        {
            for (final String flag : rtpp.trim().split("\\s+"))
            {
                if (!flag.isEmpty())
                {
                    flags.flag(flag);
                }
            }
        }
        return flags;
    }

    private void key(final String key, final String given, final Object value)
    {
        if (!KNOWN_KEYS.contains(key))
        {
            ignored.add(given);
            return;
        }
        switch (key)
        {
            case "supports" -> supportsLoadLimit = strings(value).stream().anyMatch((s) -> normalize(s).equals("load limit"));
            case "endpoint learning" -> endpointLearning = value instanceof String s ? s : endpointLearning;
            case "ice" -> ice = value instanceof String s ? s : null;
            case "media address" -> mediaAddress = value instanceof String s ? s : null;
            case "received from" -> receivedFrom = List.copyOf(strings(value));
            case "direction" -> direction = List.copyOf(strings(value));
            case "replace" -> strings(value).forEach(this::replace);
            case "rtcp mux" -> strings(value).forEach(this::rtcpMux);
            case "codec" -> codec(value);
            default ->
            {
                // read by the command itself (call-id, tags, sdp, delete delay, ...)
            }
        }
    }

    private void codec(final Object value)
    {
        if (value instanceof Map<?, ?> codec)
        {
            transcode.addAll(strings(codec.get("transcode")));
            strip.addAll(strings(codec.get("strip")));
            mask.addAll(strings(codec.get("mask")));
        }
    }

    private void flag(final String flag)
    {
        final String name = normalize(flag);
        switch (name)
        {
            case "trust address" -> trustAddress = true;
            case "symmetric" -> symmetric = true;
            case "asymmetric" -> asymmetric = true;
            case "strict source" -> strictSource = true;
            case "port latching" -> portLatching = true;
            case "no port latching" -> portLatching = false;
            case "sip source address" -> sipSourceAddress = true;
            case "reset" -> reset = true;
            case "early media" -> earlyMedia = true;
            case "fatal" -> fatal = true;
            case "loop protect" -> loopProtect = true;
            case "record call" -> recordCall = true;
            default -> prefixed(flag, name);
        }
    }

    /** Flags that carry a value after a prefix: the value is kept as given (codec names keep their case). */
    private void prefixed(final String flag, final String name)
    {
        if (name.startsWith("endpoint learning "))
        {
            endpointLearning = flag.substring("endpoint learning ".length());
        }
        else if (name.startsWith("codec transcode "))
        {
            transcode.add(flag.substring("codec transcode ".length()));
        }
        else if (name.startsWith("transcode "))
        {
            transcode.add(flag.substring("transcode ".length()));
        }
        else if (name.startsWith("codec strip "))
        {
            strip.add(flag.substring("codec strip ".length()));
        }
        else if (name.startsWith("codec mask "))
        {
            mask.add(flag.substring("codec mask ".length()));
        }
        else if (name.startsWith("replace "))
        {
            replace(flag.substring("replace ".length()));
        }
        else if (name.startsWith("rtcp mux "))
        {
            rtcpMux(flag.substring("rtcp mux ".length()));
        }
        else if (name.startsWith("ice="))
        {
            ice = flag.substring("ice=".length());
        }
        else if (!name.contains("="))
        {
            ignored.add("flag " + flag);
        }
    }

    private void replace(final String what)
    {
        switch (normalize(what))
        {
            case "origin", "origin full" -> replace.add(Replace.ORIGIN);
            case "session connection" -> replace.add(Replace.SESSION_CONNECTION);
            case "session name" -> replace.add(Replace.SESSION_NAME);
            case "sdp version" -> replace.add(Replace.SDP_VERSION);
            default -> ignored.add("replace " + what);
        }
    }

    private void rtcpMux(final String what)
    {
        switch (normalize(what))
        {
            case "offer" -> rtcpMux.add(RtcpMux.OFFER);
            case "accept" -> rtcpMux.add(RtcpMux.ACCEPT);
            case "demux" -> rtcpMux.add(RtcpMux.DEMUX);
            case "reject" -> rtcpMux.add(RtcpMux.REJECT);
            case "require" -> rtcpMux.add(RtcpMux.REQUIRE);
            default -> ignored.add("rtcp-mux " + what);
        }
    }

    /** A list of strings; a single string counts as a one-element list; anything else (and non-strings in a list) as none. */
    private static List<String> strings(final Object value)
    {
        if (value instanceof String s)
        {
            return List.of(s);
        }
        final List<String> strings = new ArrayList<>();
        if (value instanceof List<?> items)
        {
            for (final Object item : items)
            {
                if (item instanceof String s)
                {
                    strings.add(s);
                }
            }
        }
        return strings;
    }

    public boolean trustAddress()
    {
        return trustAddress;
    }

    public boolean symmetric()
    {
        return symmetric;
    }

    public boolean asymmetric()
    {
        return asymmetric;
    }

    public boolean strictSource()
    {
        return strictSource;
    }

    /** "port latching" (and not undone by a later "no port latching"). */
    public boolean portLatching()
    {
        return portLatching;
    }

    /** "SIP source address": media goes to the request's received-from address, not the SDP's. */
    public boolean sipSourceAddress()
    {
        return sipSourceAddress;
    }

    public boolean reset()
    {
        return reset;
    }

    public boolean earlyMedia()
    {
        return earlyMedia;
    }

    /** "fatal": an error where rtpengine would only warn (a delete of an unknown call). */
    public boolean fatal()
    {
        return fatal;
    }

    public boolean loopProtect()
    {
        return loopProtect;
    }

    public boolean recordCall()
    {
        return recordCall;
    }

    /** The client understands a {@code load limit} reply ({@code supports: [load limit]}). */
    public boolean supportsLoadLimit()
    {
        return supportsLoadLimit;
    }

    /** The endpoint-learning mode named by the key or an {@code endpoint-learning-X} flag (the flag wins), or null. */
    public String endpointLearning()
    {
        return endpointLearning;
    }

    /** The ICE option ({@code remove}, {@code force}, ...), or null. */
    public String ice()
    {
        return ice;
    }

    /** The {@code media address} key, or null. */
    public String mediaAddress()
    {
        return mediaAddress;
    }

    /** The {@code received-from} pair ([family, address]) as given, possibly empty. */
    public List<String> receivedFrom()
    {
        return receivedFrom;
    }

    /** The {@code direction} list (interface names, offerer's side first) as given, possibly empty. */
    public List<String> direction()
    {
        return direction;
    }

    /** The interface {@code direction} names for one side (0: the offerer's, 1: the other's), or null unless it names two. */
    public String directionOf(final int side)
    {
        return direction.size() == 2 ? direction.get(side) : null;
    }

    /** Codecs to add by transcoding: {@code codec: {transcode: [...]}} and {@code transcode-X}, {@code codec-transcode-X}. */
    public List<String> transcode()
    {
        return Collections.unmodifiableList(transcode);
    }

    public List<String> strip()
    {
        return Collections.unmodifiableList(strip);
    }

    public List<String> mask()
    {
        return Collections.unmodifiableList(mask);
    }

    public boolean replaces(final Replace what)
    {
        return replace.contains(what);
    }

    public boolean rtcpMux(final RtcpMux what)
    {
        return rtcpMux.contains(what);
    }

    /** Keys, flags and values this parser does not know ("shiny-new-key", "flag teleport", "replace x"), in order. */
    public List<String> ignored()
    {
        return Collections.unmodifiableList(ignored);
    }
}
