package io.tandem.media.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** codec options of an offer: codecs to strip or mask towards the answerer, G.711 laws to add by transcoding. */
record NgCodecs(List<String> transcode, List<String> strip, List<String> mask)
{
    static NgCodecs of(final Map<String, Object> request, final Set<String> flags, final List<String> warnings)
    {
        final List<String> transcode = new ArrayList<>();
        final List<String> strip = new ArrayList<>();
        final List<String> mask = new ArrayList<>();
        if (request.get("codec") instanceof Map<?, ?> codec)
        {
            addAll(codec.get("transcode"), transcode);
            addAll(codec.get("strip"), strip);
            addAll(codec.get("mask"), mask);
        }
        for (final String flag : flags)
        {
            if (flag.startsWith("transcode-"))
            {
                transcode.add(flag.substring("transcode-".length()));
            }
            else if (flag.startsWith("codec-transcode-"))
            {
                transcode.add(flag.substring("codec-transcode-".length()));
            }
            else if (flag.startsWith("codec-strip-"))
            {
                strip.add(flag.substring("codec-strip-".length()));
            }
            else if (flag.startsWith("codec-mask-"))
            {
                mask.add(flag.substring("codec-mask-".length()));
            }
        }
        for (final String target : transcode)
        {
            if (!target.equalsIgnoreCase("PCMU") && !target.equalsIgnoreCase("PCMA"))
            {
                warnings.add("only PCMU and PCMA can be transcoded; ignored transcode " + target);
            }
        }
        return new NgCodecs(transcode, strip, mask);
    }

    private static void addAll(final Object value, final List<String> into)
    {
        if (value instanceof List<?> list)
        {
            for (final Object item : list)
            {
                into.add(String.valueOf(item));
            }
        }
        else if (value instanceof String single)
        {
            into.add(single);
        }
    }

    private boolean removes(final String codec)
    {
        for (final String name : concat(strip, mask))
        {
            if (name.equalsIgnoreCase("all") || name.equalsIgnoreCase(codec))
            {
                return true;
            }
        }
        return false;
    }

    private static List<String> concat(final List<String> a, final List<String> b)
    {
        final List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Where the first G.711 payload type stands on an m= line, or -1: a transcoded law is offered there. */
    private static int firstG711(final List<String> formats)
    {
        for (int i = 0; i < formats.size(); i++)
        {
            if (formats.get(i).equals("0") || formats.get(i).equals("8"))
            {
                return i;
            }
        }
        return -1;
    }

    /** Rewrite the offer going to the answerer: strip/mask codecs, then add the G.711 laws to transcode to. */
    void apply(final Sdp sdp, final List<String> warnings)
    {
        for (final Sdp.Media m : sdp.media())
        {
            if (!m.type().equals("audio"))
            {
                continue;
            }
            final int g711At = firstG711(m.formats());
            for (final String format : List.copyOf(m.formats()))
            {
                final String name = sdp.codecName(m, format);
                if (name != null && removes(name))
                {
                    sdp.removeFormat(m, format);
                }
            }
            for (final String target : transcode)
            {
                final String law = target.toUpperCase(java.util.Locale.ROOT);
                if ((law.equals("PCMU") || law.equals("PCMA")) && g711At >= 0 &&
                    !m.formats().contains(NgCommands.G711Pair.payloadType(law)))
                {
                    sdp.addFormat(m, NgCommands.G711Pair.payloadType(law), law + "/8000", g711At);
                }
            }
            if (m.formats().isEmpty())
            {
                warnings.add("no codec left in the " + m.type() + " section after strip/mask");
            }
        }
    }
}
