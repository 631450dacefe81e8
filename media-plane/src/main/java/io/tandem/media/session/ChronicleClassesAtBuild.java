package io.tandem.media.session;

import java.io.File;
import java.lang.reflect.Method;

import net.openhft.chronicle.values.ValueModel;
import net.openhft.compiler.CachedCompiler;

/**
 * A build step, run by Maven after compiling (see media-plane's pom): has Chronicle generate the off-heap class it
 * would otherwise generate and compile with javac at every start, and writes it to the build output, so it ships in
 * Tandem's jar. Chronicle looks for such a class on the classpath before generating one, so a start (above all the
 * restart after a crash, while media waits) skips the compiler: about 0.7 s of the sessions file's open time.
 * {@code SessionStoreTest} fails if the class is missing from the build.
 */
public final class ChronicleClassesAtBuild
{
    /** The value types Chronicle Map instantiates off-heap for a map of Tandem's shape. */
    static final String[] VALUE_TYPES = {"net.openhft.chronicle.hash.VanillaGlobalMutableState"};

    private ChronicleClassesAtBuild()
    {
    }

    /** @param args the directory of compiled classes to add the generated ones to */
    public static void main(final String[] args) throws Exception
    {
        final File classes = new File(args[0]);
        final Method generate = Class.forName("net.openhft.chronicle.values.Generators")
            .getDeclaredMethod("generateNativeClass", ValueModel.class, String.class);
        generate.setAccessible(true);
        for (final String type : VALUE_TYPES)
        {
            final Class<?> valueType = Class.forName(type);
            final String simpleName = type.substring(type.lastIndexOf('.') + 1) + "$$Native";
            final String source = (String)generate.invoke(null, ValueModel.acquire(valueType), simpleName);
            final String name = valueType.getPackageName() + "." + simpleName;
            new CachedCompiler(null, classes).loadFromJava(ChronicleClassesAtBuild.class.getClassLoader(), name, source);
            System.out.println("tandem: pre-generated " + name + " in " + classes);
        }
    }
}
