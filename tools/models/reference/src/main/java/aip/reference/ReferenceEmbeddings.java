package aip.reference;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.output.Response;

import java.io.File;
import java.io.InputStream;
import java.util.Map;

/**
 * Reference vectors for @aip/embeddings: embeds each input text with langchain4j's own in-process
 * all-MiniLM-L6-v2 model (float32 or quantized), and records the token ids its tokenizer produces
 * (the tokenizer.json shipped in the same jar, loaded with the options langchain4j uses: no padding).
 *
 * Usage: ReferenceEmbeddings <variant: all-minilm-l6-v2 | all-minilm-l6-v2-q>
 *                            <input.json: {"texts": [{"id": "...", "text": "..."}]}> <output.json>
 */
public final class ReferenceEmbeddings {

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: ReferenceEmbeddings <variant> <input.json> <output.json>");
        }
        String variant = args[0];
        EmbeddingModel model;
        Class<?> modelClass;
        switch (variant) {
            case "all-minilm-l6-v2" -> { model = new AllMiniLmL6V2EmbeddingModel(); modelClass = AllMiniLmL6V2EmbeddingModel.class; }
            case "all-minilm-l6-v2-q" -> { model = new AllMiniLmL6V2QuantizedEmbeddingModel(); modelClass = AllMiniLmL6V2QuantizedEmbeddingModel.class; }
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        }
        ObjectMapper mapper = new ObjectMapper();
        JsonNode input = mapper.readTree(new File(args[1]));

        String tokenizerResource = "/" + variant + "-tokenizer.json";
        HuggingFaceTokenizer tokenizer;
        try (InputStream json = modelClass.getResourceAsStream(tokenizerResource)) {
            if (json == null) throw new IllegalStateException(tokenizerResource + " is not on the classpath");
            tokenizer = HuggingFaceTokenizer.newInstance(json, Map.of("padding", "false"));
        }

        ObjectNode out = mapper.createObjectNode();
        out.put("javaVersion", System.getProperty("java.version"));
        out.put("modelClass", modelClass.getName());
        out.put("dimension", model.dimension());
        ArrayNode results = out.putArray("texts");
        for (JsonNode item : input.get("texts")) {
            String text = item.get("text").asText();
            ObjectNode result = results.addObject();
            result.put("id", item.get("id").asText());
            Encoding encoding = tokenizer.encode(text);
            ArrayNode ids = result.putArray("tokenIds");
            for (long tokenId : encoding.getIds()) ids.add(tokenId);
            ArrayNode tokens = result.putArray("tokens");
            for (String token : encoding.getTokens()) tokens.add(token);
            try {
                Response<Embedding> response = model.embed(text);
                result.put("inputTokenCount", response.tokenUsage().inputTokenCount());
                ArrayNode vector = result.putArray("vector");
                for (float value : response.content().vector()) vector.add(value);
            } catch (RuntimeException e) {
                // langchain4j refuses some inputs (the empty string): record what it said.
                result.put("error", e.getClass().getName() + ": " + e.getMessage());
            }
        }
        mapper.writeValue(new File(args[2]), out);
    }
}
