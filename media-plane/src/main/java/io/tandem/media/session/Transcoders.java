package io.tandem.media.session;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.codec.PayloadTransformerProvider;

/** The payload transformers this node has (the SPI's providers, found at start), by the name signalling uses. */
final class Transcoders
{
    private final Map<String, PayloadTransformerProvider> providers = new HashMap<>();

    Transcoders()
    {
        for (final PayloadTransformerProvider provider : ServiceLoader.load(PayloadTransformerProvider.class))
        {
            providers.put(provider.name(), provider);
        }
    }

    boolean knows(final String name)
    {
        return providers.containsKey(name);
    }

    /** Refuse signalling that names a transcoder this node lacks, before any socket is bound. */
    void check(final List<StreamSpec> specs) throws MediaException
    {
        for (final StreamSpec spec : specs)
        {
            if (spec.transcode() != null && !knows(spec.transcode()))
            {
                throw new MediaException("Unknown transcoder " + spec.transcode());
            }
        }
    }

    /** A new transformer for a stream, or none. */
    PayloadTransformer create(final String name)
    {
        return name == null ? PayloadTransformer.NONE : providers.get(name).create();
    }
}
