package org.peft4j.io;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** JSON for the whole project: one shared mapper, and the Python layout PEFT configs are saved in. */
public final class Json {

    /**
     * The shared mapper. Stricter than Jackson's default in what it reads: duplicate keys and
     * trailing content are errors, since either means a damaged or hand-mangled file.
     */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final String INDENT = "  ";

    private Json() {}

    /**
     * Python's {@code json.dumps(value, indent=2, sort_keys=True)}, byte for byte: how Hugging Face
     * PEFT writes {@code adapter_config.json}. Accepts maps with string keys, collections and
     * arrays, strings, integers, floats, booleans, null and {@link JsonNode}s; other objects
     * (records, enums) are first converted with {@link #MAPPER}. No trailing newline, like Python.
     */
    public static String toPythonStyle(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, int depth) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof CharSequence || value instanceof Character) {
            writeString(out, value.toString());
        } else if (value instanceof Boolean bool) {
            out.append(bool ? "true" : "false");
        } else if (value instanceof Number number) {
            writeNumber(out, number);
        } else if (value instanceof Map<?, ?> map) {
            writeMap(out, map, depth);
        } else if (value instanceof Collection<?> collection) {
            writeList(out, new ArrayList<>(collection), depth);
        } else if (value.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                items.add(Array.get(value, i));
            }
            writeList(out, items, depth);
        } else if (value instanceof JsonNode node) {
            writeNode(out, node, depth);
        } else {
            writeNode(out, MAPPER.valueToTree(value), depth);
        }
    }

    private static void writeNode(StringBuilder out, JsonNode node, int depth) {
        if (node.isObject()) {
            Map<String, JsonNode> fields = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> iterator = node.fields();
            while (iterator.hasNext()) {
                Map.Entry<String, JsonNode> field = iterator.next();
                fields.put(field.getKey(), field.getValue());
            }
            writeMap(out, fields, depth);
        } else if (node.isArray()) {
            List<Object> items = new ArrayList<>();
            node.elements().forEachRemaining(items::add);
            writeList(out, items, depth);
        } else if (node.isTextual()) {
            writeString(out, node.textValue());
        } else if (node.isBoolean()) {
            out.append(node.booleanValue() ? "true" : "false");
        } else if (node.isNull() || node.isMissingNode()) {
            out.append("null");
        } else if (node.isNumber()) {
            writeNumber(out, node.numberValue());
        } else {
            throw new IllegalArgumentException("cannot write JSON node of type " + node.getNodeType()
                    + " in Python style");
        }
    }

    private static void writeNumber(StringBuilder out, Number number) {
        if (number instanceof Double d) {
            out.append(PythonFloats.json(d));
        } else if (number instanceof Float f) {
            out.append(PythonFloats.json(f));
        } else if (number instanceof BigDecimal decimal) {
            out.append(PythonFloats.json(decimal.doubleValue()));
        } else if (number instanceof Integer || number instanceof Long || number instanceof Short
                || number instanceof Byte || number instanceof BigInteger
                || number instanceof AtomicInteger || number instanceof AtomicLong) {
            out.append(number);
        } else {
            throw new IllegalArgumentException("cannot write number of type " + number.getClass().getName()
                    + " in Python style");
        }
    }

    private static void writeMap(StringBuilder out, Map<?, ?> map, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<String> keys = new ArrayList<>();
        for (Object key : map.keySet()) {
            if (!(key instanceof String name)) {
                throw new IllegalArgumentException("JSON object keys must be strings, got "
                        + (key == null ? "null" : key.getClass().getName()));
            }
            keys.add(name);
        }
        keys.sort(Json::compareCodePoints);
        out.append('{');
        for (int i = 0; i < keys.size(); i++) {
            out.append(i == 0 ? "" : ",");
            newline(out, depth + 1);
            writeString(out, keys.get(i));
            out.append(": ");
            write(out, map.get(keys.get(i)), depth + 1);
        }
        newline(out, depth);
        out.append('}');
    }

    private static void writeList(StringBuilder out, List<?> items, int depth) {
        if (items.isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        for (int i = 0; i < items.size(); i++) {
            out.append(i == 0 ? "" : ",");
            newline(out, depth + 1);
            write(out, items.get(i), depth + 1);
        }
        newline(out, depth);
        out.append(']');
    }

    private static void newline(StringBuilder out, int depth) {
        out.append('\n').append(INDENT.repeat(depth));
    }

    /** ensure_ascii: everything outside printable ASCII becomes \\uXXXX (UTF-16 units, lower case). */
    private static void writeString(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    // Python sorts str keys by code point; Java's compareTo uses UTF-16 units, which differ above
    // U+FFFF.
    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /**
     * A JSON file's tree; any failure to read or parse it (bad syntax, bad encoding, a missing file)
     * is an IOException that names the file, so loaders report it as it is.
     */
    public static com.fasterxml.jackson.databind.JsonNode readFile(java.nio.file.Path file) throws java.io.IOException {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new java.io.IOException(file + ": not found", e);
        } catch (java.io.IOException e) { // e.g. CharConversionException: not UTF-8/16/32 text
            throw new java.io.IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
