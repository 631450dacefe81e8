package io.tandem.media.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.tandem.ng.NgFlags;

/** codec options of an offer: codecs to strip or mask towards the answerer, G.711 laws to add by transcoding. */
record NgCodecs(List<String> transcode, List<String> strip, List<String> mask)
{
    static NgCodecs of(final NgFlags flags, final List<String> warnings)
    {
        for (final String target : flags.transcode())
        {
            if (!target.equalsIgnoreCase("PCMU") && !target.equalsIgnoreCase("PCMA"))
            {
                warnings.add("only PCMU and PCMA can be transcoded; ignored transcode " + target);
            }
        }
        return new NgCodecs(flags.transcode(), flags.strip(), flags.mask());
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
