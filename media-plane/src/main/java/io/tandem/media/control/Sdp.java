package io.tandem.media.control;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * An SDP body as lines, each kept with its own line ending, so that whatever Tandem does not rewrite goes back
 * byte for byte. Session-level lines come first, then one {@link Media} per {@code m=} line. Parsing checks only
 * what Tandem reads (v=, o=, c=, m=, a=rtcp); everything else is carried as is.
 */
public final class Sdp
{
    /** One line: its type letter, the text after {@code =}, and its line ending ({@code "\r\n"}, {@code "\n"} or none). */
    public static final class Line
    {
        final char type;
        String value;
        final String eol;

        Line(final char type, final String value, final String eol)
        {
            this.type = type;
            this.value = value;
            this.eol = eol;
        }

        public char type()
        {
            return type;
        }

        public String value()
        {
            return value;
        }

        boolean isAttribute(final String name)
        {
            return type == 'a' && (value.equals(name) || value.startsWith(name + ":"));
        }

        /** An attribute about one payload type, such as {@code a=rtpmap:101 ...} or {@code a=fmtp:101 ...}. */
        boolean isFormatAttribute(final String name, final String payloadType)
        {
            final String prefix = name + ":" + payloadType;
            return type == 'a' && (value.equals(prefix) || value.startsWith(prefix + " "));
        }
    }

    /** One media section: its m= line and the lines under it. */
    public static final class Media
    {
        final Line mLine;
        final List<Line> lines = new ArrayList<>();
        final String type;
        final int port;
        final String protocol;
        List<String> formats;

        Media(final Line mLine, final String type, final int port, final String protocol, final List<String> formats)
        {
            this.mLine = mLine;
            this.type = type;
            this.port = port;
            this.protocol = protocol;
            this.formats = formats;
        }

        public String type()
        {
            return type;
        }

        public int port()
        {
            return port;
        }

        public String protocol()
        {
            return protocol;
        }

        public List<String> formats()
        {
            return formats;
        }

        Line find(final char type)
        {
            for (final Line line : lines)
            {
                if (line.type == type)
                {
                    return line;
                }
            }
            return null;
        }

        Line attribute(final String name)
        {
            for (final Line line : lines)
            {
                if (line.isAttribute(name))
                {
                    return line;
                }
            }
            return null;
        }

        public boolean hasAttribute(final String name)
        {
            return attribute(name) != null;
        }
    }

    final List<Line> session = new ArrayList<>();
    final List<Media> media = new ArrayList<>();
    private final String trailer;

    Sdp(final String trailer)
    {
        this.trailer = trailer;
    }

    public List<Media> media()
    {
        return media;
    }

    /** @throws SdpException naming the line number and what is wrong with it */
    public static Sdp parse(final String text) throws SdpException
    {
        return SdpParser.parse(text);
    }

    // ---- what the media plane needs to know ----

    /** Where the party that wrote this SDP receives a media section's RTP: its c= (or the session's) and m= port. */
    public InetSocketAddress rtpAddress(final Media m)
    {
        final Line c = m.find('c') != null ? m.find('c') : sessionLine('c');
        if (c == null || m.port == 0)
        {
            return null;
        }
        final String address = c.value.split(" ", -1)[2];
        return new InetSocketAddress(SdpParser.literal(address.contains("/") ? address.substring(0, address.indexOf('/')) : address), m.port);
    }

    /**
     * Where it receives RTCP: a=rtcp if given, else the RTP port + 1 (also with rtcp-mux: where the party falls back
     * to should the answer not accept it), or the RTP port itself for port 65535, which has no next.
     */
    public InetSocketAddress rtcpAddress(final Media m)
    {
        final InetSocketAddress rtp = rtpAddress(m);
        if (rtp == null)
        {
            return null;
        }
        final Line rtcp = rtcpLine(m);
        if (rtcp == null)
        {
            return new InetSocketAddress(rtp.getAddress(), rtp.getPort() < 65535 ? rtp.getPort() + 1 : rtp.getPort());
        }
        final String[] fields = rtcp.value.substring("rtcp:".length()).split(" ", -1);
        final int port = Integer.parseInt(fields[0]);
        return new InetSocketAddress(fields.length == 4 ? SdpParser.literal(fields[3]) : rtp.getAddress(), port);
    }

    private static Line rtcpLine(final Media m)
    {
        for (final Line line : m.lines)
        {
            if (line.isAttribute("rtcp") && !line.isAttribute("rtcp-mux"))
            {
                return line;
            }
        }
        return null;
    }

    private Line sessionLine(final char type)
    {
        for (final Line line : session)
        {
            if (line.type == type)
            {
                return line;
            }
        }
        return null;
    }

    /** The media direction attribute of a section (or the session's), {@code sendrecv} if none. */
    public String direction(final Media m)
    {
        for (final String direction : List.of("sendrecv", "sendonly", "recvonly", "inactive"))
        {
            if (m.hasAttribute(direction))
            {
                return direction;
            }
        }
        for (final Line line : session)
        {
            if (line.type == 'a' && List.of("sendonly", "recvonly", "inactive").contains(line.value))
            {
                return line.value;
            }
        }
        return "sendrecv";
    }

    // ---- rewriting ----

    private static String family(final String address)
    {
        return address.contains(":") ? "IP6" : "IP4";
    }

    /**
     * Point a media section at Tandem: its m= port (unless it was 0, a rejected stream), its c= line, and an a=rtcp
     * line if there was one. A section without its own c= gets one only when the session-level c= (rewrite that
     * first) does not already say the same.
     */
    public void rewriteMedia(final Media m, final String address, final int port)
    {
        if (m.port != 0)
        {
            final int firstSpace = m.mLine.value.indexOf(' ');
            final int secondSpace = m.mLine.value.indexOf(' ', firstSpace + 1);
            final String portField = m.mLine.value.substring(firstSpace + 1, secondSpace);
            final int slash = portField.indexOf('/');
            m.mLine.value = m.mLine.value.substring(0, firstSpace + 1) + port +
                (slash < 0 ? "" : portField.substring(slash)) + m.mLine.value.substring(secondSpace);
        }
        final String connection = "IN " + family(address) + " " + address;
        final Line c = m.find('c');
        final Line sessionC = sessionLine('c');
        if (c != null)
        {
            c.value = connection;
        }
        else if (sessionC == null || !sessionC.value.equals(connection))
        {
            m.lines.add(0, new Line('c', connection, m.mLine.eol));
        }
        final Line rtcp = rtcpLine(m);
        if (rtcp != null)
        {
            final boolean withAddress = rtcp.value.split(" ", -1).length == 4;
            final int rtcpPort = m.hasAttribute("rtcp-mux") ? port : port + 1;
            rtcp.value = "rtcp:" + rtcpPort + (withAddress ? " " + connection : "");
        }
    }

    /** Point the session-level c= line (if any) at {@code address}. */
    public void rewriteSessionConnection(final String address)
    {
        final Line c = sessionLine('c');
        if (c != null)
        {
            c.value = "IN " + family(address) + " " + address;
        }
    }

    /** replace=origin: the o= line's address becomes {@code address}. */
    public void replaceOrigin(final String address)
    {
        final Line o = sessionLine('o');
        if (o != null)
        {
            final String[] fields = o.value.split(" ", -1);
            fields[4] = family(address);
            fields[5] = address;
            o.value = String.join(" ", fields);
        }
    }

    /** The session version of the o= line (its third field), or null without a valid o= line. */
    public String originVersion()
    {
        final Line o = sessionLine('o');
        return o == null ? null : o.value.split(" ", -1)[2];
    }

    /** Set the session version of the o= line. */
    public void originVersion(final long version)
    {
        final Line o = sessionLine('o');
        if (o != null)
        {
            final String[] fields = o.value.split(" ", -1);
            fields[2] = Long.toString(version);
            o.value = String.join(" ", fields);
        }
    }

    /** replace=session-name: the s= line. */
    public void replaceSessionName(final String name)
    {
        final Line s = sessionLine('s');
        if (s != null)
        {
            s.value = name;
        }
    }

    private static final List<String> ICE_ATTRIBUTES = List.of(
        "candidate", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "ice-mismatch", "remote-candidates",
        "end-of-candidates");

    /** Remove ICE attributes everywhere: Tandem relays media itself and is not an ICE agent. @return lines removed. */
    public int removeIce()
    {
        final Predicate<Line> ice = (line) -> line.type == 'a' && ICE_ATTRIBUTES.stream().anyMatch(line::isAttribute);
        int removed = 0;
        removed += removeIf(session, ice);
        for (final Media m : media)
        {
            removed += removeIf(m.lines, ice);
        }
        return removed;
    }

    private static int removeIf(final List<Line> lines, final Predicate<Line> test)
    {
        final int before = lines.size();
        lines.removeIf(test);
        return before - lines.size();
    }

    /** Add a value-less attribute (e.g. rtcp-mux) at the end of a media section. */
    /** Whether the session level carries the attribute line {@code a=value} exactly. */
    public boolean hasSessionAttribute(final String value)
    {
        for (final Line line : session)
        {
            if (line.type == 'a' && line.value.equals(value))
            {
                return true;
            }
        }
        return false;
    }

    /** Add {@code a=value} at the end of the session level (before the first m= line). */
    public void addSessionAttribute(final String value)
    {
        session.add(new Line('a', value, session.get(session.size() - 1).eol.isEmpty() ? "\r\n" : session.get(session.size() - 1).eol));
    }

    public void addAttribute(final Media m, final String name)
    {
        m.lines.add(new Line('a', name, m.mLine.eol));
    }

    /** Remove an attribute (e.g. rtcp-mux when it is rejected) from a media section. */
    public void removeAttribute(final Media m, final String name)
    {
        m.lines.removeIf((line) -> line.isAttribute(name));
    }

    // ---- codecs ----

    private static final java.util.Map<String, String> STATIC_PAYLOAD_TYPES = java.util.Map.of(
        "0", "PCMU", "3", "GSM", "4", "G723", "8", "PCMA", "9", "G722", "18", "G729");

    /** The encoding name of a payload type in a section (from a=rtpmap, or the static RTP/AVP table), or null. */
    public String codecName(final Media m, final String payloadType)
    {
        final Line rtpmap = formatAttribute(m, "rtpmap", payloadType);
        if (rtpmap != null)
        {
            final String[] fields = rtpmap.value.split(" ", -1);
            return fields.length > 1 ? fields[1].split("/", -1)[0] : null;
        }
        return STATIC_PAYLOAD_TYPES.get(payloadType);
    }

    private static Line formatAttribute(final Media m, final String name, final String payloadType)
    {
        for (final Line line : m.lines)
        {
            if (line.isFormatAttribute(name, payloadType))
            {
                return line;
            }
        }
        return null;
    }

    /** Remove a payload type from a section: from the m= line and its rtpmap, fmtp and rtcp-fb attributes. */
    public void removeFormat(final Media m, final String payloadType)
    {
        final List<String> formats = new ArrayList<>(m.formats);
        formats.remove(payloadType);
        setFormats(m, formats);
        m.lines.removeIf((line) -> line.isFormatAttribute("rtpmap", payloadType) ||
            line.isFormatAttribute("fmtp", payloadType) || line.isFormatAttribute("rtcp-fb", payloadType));
    }

    /** Add a payload type to the m= line at {@code index} (clamped to the end), with its a=rtpmap (e.g. "PCMA/8000"). */
    public void addFormat(final Media m, final String payloadType, final String encoding, final int index)
    {
        final List<String> formats = new ArrayList<>(m.formats);
        formats.add(Math.max(0, Math.min(index, formats.size())), payloadType);
        setFormats(m, formats);
        int at = m.lines.size();
        for (int i = 0; i < m.lines.size(); i++)
        {
            if (m.lines.get(i).isAttribute("rtpmap"))
            {
                at = i + 1;
            }
        }
        m.lines.add(at, new Line('a', "rtpmap:" + payloadType + " " + encoding, m.mLine.eol));
    }

    /** Replace one payload type by another in the m= line and its a=rtpmap (answers after transcoding). */
    public void replaceFormat(final Media m, final String from, final String to, final String encoding)
    {
        final List<String> formats = new ArrayList<>(m.formats);
        final int index = formats.indexOf(from);
        if (index < 0)
        {
            return;
        }
        formats.set(index, to);
        setFormats(m, formats);
        final Line rtpmap = formatAttribute(m, "rtpmap", from);
        if (rtpmap != null)
        {
            rtpmap.value = "rtpmap:" + to + " " + encoding;
        }
        m.lines.removeIf((line) -> line.isFormatAttribute("fmtp", from));
    }

    private static void setFormats(final Media m, final List<String> formats)
    {
        m.formats = List.copyOf(formats);
        final String[] fields = m.mLine.value.split(" ", -1);
        m.mLine.value = fields[0] + " " + fields[1] + " " + fields[2] + (formats.isEmpty() ? "" : " " + String.join(" ", formats));
    }

    @Override
    public String toString()
    {
        final StringBuilder out = new StringBuilder(512);
        for (final Line line : session)
        {
            append(out, line);
        }
        for (final Media m : media)
        {
            append(out, m.mLine);
            for (final Line line : m.lines)
            {
                append(out, line);
            }
        }
        return out.append(trailer).toString();
    }

    private static void append(final StringBuilder out, final Line line)
    {
        out.append(line.type).append('=').append(line.value).append(line.eol);
    }
}
