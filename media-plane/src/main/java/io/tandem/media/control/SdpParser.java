package io.tandem.media.control;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import io.tandem.media.control.Sdp.Line;
import io.tandem.media.control.Sdp.Media;

/**
 * Reads an SDP body into {@link Sdp}'s lines. It checks only what Tandem reads (v=, o=, c=, m=, a=rtcp) and names
 * the line of the first thing wrong; every other line is carried as it is.
 */
final class SdpParser
{
    private SdpParser()
    {
    }

    /** An SDP body's lines, and the line ending of an empty last line (kept as it was). */
    private record Lines(List<Line> lines, String trailer)
    {
    }

    /** @throws SdpException naming the line number and what is wrong with it */
    static Sdp parse(final String text) throws SdpException
    {
        final Lines split = split(text);
        final List<Line> lines = split.lines();
        if (lines.isEmpty() || lines.get(0).type != 'v' || !lines.get(0).value.equals("0"))
        {
            throw new SdpException("line 1: an SDP body starts with v=0");
        }
        final Sdp sdp = new Sdp(split.trailer());
        Media current = null;
        for (int i = 0; i < lines.size(); i++)
        {
            final Line line = lines.get(i);
            final int lineNumber = i + 1;
            switch (line.type)
            {
                case 'm' ->
                {
                    current = parseMedia(line, lineNumber);
                    sdp.media.add(current);
                    continue;
                }
                case 'c' -> parseConnection(line.value, lineNumber);
                case 'o' -> parseOrigin(line.value, lineNumber);
                case 'a' ->
                {
                    if (line.isAttribute("rtcp") && !line.isAttribute("rtcp-mux"))
                    {
                        parseRtcp(line.value, lineNumber);
                    }
                }
                default ->
                {
                }
            }
            if (current == null)
            {
                sdp.session.add(line);
            }
            else
            {
                current.lines.add(line);
            }
        }
        return sdp;
    }

    /** Lines of type=value, each with its own line ending; anything else is an error naming the line. */
    private static Lines split(final String text) throws SdpException
    {
        if (text.isEmpty())
        {
            throw new SdpException("empty SDP");
        }
        final List<Line> lines = new ArrayList<>();
        int start = 0;
        String trailer = "";
        int number = 0;
        while (start < text.length())
        {
            number++;
            int end = text.indexOf('\n', start);
            final String eol;
            final int contentEnd;
            if (end < 0)
            {
                end = text.length();
                contentEnd = end;
                eol = "";
            }
            else
            {
                contentEnd = end > start && text.charAt(end - 1) == '\r' ? end - 1 : end;
                eol = text.substring(contentEnd, end + 1);
                end++;
            }
            final String content = text.substring(start, contentEnd);
            if (content.isEmpty() && end >= text.length())
            {
                trailer = eol; // an empty last line: keep it as it was
                break;
            }
            if (content.length() < 2 || content.charAt(1) != '=' || content.charAt(0) < 'a' || content.charAt(0) > 'z')
            {
                throw new SdpException("line " + number + ": not an SDP line (type=value): '" + excerpt(content) + "'");
            }
            lines.add(new Line(content.charAt(0), content.substring(2), eol));
            start = end;
        }
        return new Lines(lines, trailer);
    }

    private static String excerpt(final String content)
    {
        return content.length() > 40 ? content.substring(0, 40) + "..." : content;
    }

    private static Media parseMedia(final Line line, final int number) throws SdpException
    {
        final String[] fields = line.value.split(" ", -1);
        if (fields.length < 3)
        {
            throw new SdpException("line " + number + ": m= needs media, port and protocol: '" + excerpt(line.value) + "'");
        }
        final String portField = fields[1];
        final int slash = portField.indexOf('/');
        final int port = port(slash < 0 ? portField : portField.substring(0, slash), number, "m=");
        return new Media(line, fields[0], port, fields[2], List.of(fields).subList(3, fields.length));
    }

    private static int port(final String text, final int number, final String what) throws SdpException
    {
        if (text.isEmpty() || text.length() > 5)
        {
            throw new SdpException("line " + number + ": " + what + " port is not a number: '" + excerpt(text) + "'");
        }
        int port = 0;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c < '0' || c > '9')
            {
                throw new SdpException("line " + number + ": " + what + " port is not a number: '" + excerpt(text) + "'");
            }
            port = port * 10 + (c - '0');
        }
        if (port > 65535)
        {
            throw new SdpException("line " + number + ": " + what + " port out of range: " + port);
        }
        return port;
    }

    /** @return the address of a c= value ("IN IP4 192.0.2.1"). */
    private static String parseConnection(final String value, final int number) throws SdpException
    {
        final String[] fields = value.split(" ", -1);
        if (fields.length != 3 || !fields[0].equals("IN") || !(fields[1].equals("IP4") || fields[1].equals("IP6")))
        {
            throw new SdpException("line " + number + ": c= must be 'IN IP4|IP6 address': '" + excerpt(value) + "'");
        }
        final String address = fields[2].contains("/") ? fields[2].substring(0, fields[2].indexOf('/')) : fields[2];
        checkAddress(fields[1], address, number, "c=");
        return address;
    }

    private static void parseOrigin(final String value, final int number) throws SdpException
    {
        final String[] fields = value.split(" ", -1);
        if (fields.length != 6 || !fields[3].equals("IN"))
        {
            throw new SdpException("line " + number + ": o= needs 6 fields ending in 'IN IP4|IP6 address': '" +
                excerpt(value) + "'");
        }
    }

    private static void parseRtcp(final String value, final int number) throws SdpException
    {
        if (!value.startsWith("rtcp:"))
        {
            throw new SdpException("line " + number + ": a=rtcp needs a port");
        }
        final String[] fields = value.substring("rtcp:".length()).split(" ", -1);
        port(fields[0], number, "a=rtcp");
        if (fields.length != 1 && (fields.length != 4 || !fields[1].equals("IN")))
        {
            throw new SdpException("line " + number + ": a=rtcp must be 'port [IN IP4|IP6 address]': '" + excerpt(value) + "'");
        }
        if (fields.length == 4)
        {
            checkAddress(fields[2], fields[3], number, "a=rtcp");
        }
    }

    private static void checkAddress(final String family, final String address, final int number, final String what)
        throws SdpException
    {
        final InetAddress parsed = literal(address);
        final boolean ok = family.equals("IP4") ? parsed instanceof Inet4Address : parsed instanceof Inet6Address;
        if (!ok)
        {
            throw new SdpException("line " + number + ": " + what + " address is not an " + family + " address: '" +
                excerpt(address) + "'");
        }
    }

    /** An IP address literal, never a name to resolve; null if it is not one. */
    static InetAddress literal(final String address)
    {
        try
        {
            return InetAddress.ofLiteral(address);
        }
        catch (final IllegalArgumentException ex)
        {
            return null;
        }
    }
}
