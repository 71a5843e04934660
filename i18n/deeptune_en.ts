<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>AddDatasetDialog</name>
    <message>
        <location filename="../views/adddatasetdialog.cpp" line="+26"/>
        <source>Add dataset</source>
        <translation>Add dataset</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>File:</source>
        <translation>File:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>JSON Lines (one object per line)</source>
        <translation>JSON Lines (one object per line)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>JSON (array of objects)</source>
        <translation>JSON (array of objects)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV (header row)</source>
        <translation>CSV (header row)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Plain text (one example per line)</source>
        <translation>Plain text (one example per line)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Format:</source>
        <translation>Format:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Text (learn the whole text)</source>
        <translation>Text (learn the whole text)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt and response (learn the response)</source>
        <translation>Prompt and response (learn the response)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Text and label (classification)</source>
        <translation>Text and label (classification)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Conversation (learn the assistant turns)</source>
        <translation>Conversation (learn the assistant turns)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples are:</source>
        <translation>Examples are:</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Text column:</source>
        <translation>Text column:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt column:</source>
        <translation>Prompt column:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Response column:</source>
        <translation>Response column:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Label column:</source>
        <translation>Label column:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Messages column:</source>
        <translation>Messages column:</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Add</source>
        <translation>Add</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Detected columns: %1</source>
        <translation>Detected columns: %1</translation>
    </message>
</context>
<context>
    <name>AttentionPage</name>
    <message>
        <location filename="../views/attentionpage.cpp" line="+58"/>
        <source>One head</source>
        <translation>One head</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean over heads (layer)</source>
        <translation>Mean over heads (layer)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Difference between two steps</source>
        <translation>Difference between two steps</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adapter on / off</source>
        <translation>Adapter on / off</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The probe through the checkpoint at or before the step, with the adapters on minus off</source>
        <translation>The probe through the checkpoint at or before the step, with the adapters on minus off</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The step subtracted from the current one</source>
        <translation>The step subtracted from the current one</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Run:</source>
        <translation>Run:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Probe:</source>
        <translation>Probe:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Layer:</source>
        <translation>Layer:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Head:</source>
        <translation>Head:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>View:</source>
        <translation>View:</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+137"/>
        <source>Play</source>
        <translation>Play</translation>
    </message>
    <message>
        <location line="-116"/>
        <source>key token</source>
        <translation>key token</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>query token</source>
        <translation>query token</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Every head of the step on one colour scale (0 to the step&apos;s largest weight); click one to show it</source>
        <translation>Every head of the step on one colour scale (0 to the step&apos;s largest weight); click one to show it</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Layer</source>
        <translation>Layer</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Head</source>
        <translation>Head</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Entropy</source>
        <translation>Entropy</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Sink</source>
        <translation>Sink</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Previous</source>
        <translation>Previous</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max</source>
        <translation>Max</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>step</source>
        <translation>step</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>layer, head</source>
        <translation>layer, head</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>entropy (nats)</source>
        <translation>entropy (nats)</translation>
    </message>
    <message>
        <location line="+90"/>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <location line="+77"/>
        <source>%1 (#%2)</source>
        <translation>%1 (#%2)</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>%1: %2…</source>
        <translation>%1: %2…</translation>
    </message>
    <message>
        <location line="+127"/>
        <source>no steps</source>
        <translation>no steps</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>step %1 (%2 of %3)</source>
        <translation>step %1 (%2 of %3)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>minus step %1</source>
        <translation>minus step %1</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>Open a project to see the attention its runs recorded.</source>
        <translation>Open a project to see the attention its runs recorded.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No run of this project has recorded attention yet. Runs capture it for their probes (probe.text, probe.rows; the first validation row by default) every probe.attention_every steps.</source>
        <translation>No run of this project has recorded attention yet. Runs capture it for their probes (probe.text, probe.rows; the first validation row by default) every probe.attention_every steps.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This run has no attention probes.</source>
        <translation>This run has no attention probes.</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>A stored attention map is damaged: %1</source>
        <translation>A stored attention map is damaged: %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No adapter comparison for step %1.</source>
        <translation>No adapter comparison for step %1.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Running the probe through the checkpoint with the adapters on and off…</source>
        <translation>Running the probe through the checkpoint with the adapters on and off…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Layer %1 has no map to show at this step.</source>
        <translation>Layer %1 has no map to show at this step.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>mean of %1 heads</source>
        <translation>mean of %1 heads</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>adapters on minus off</source>
        <translation>adapters on minus off</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>step %1 minus step %2</source>
        <translation>step %1 minus step %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>weight</source>
        <translation>weight</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>query &apos;%1&apos; (%2) -&gt; key &apos;%3&apos; (%4): %5</source>
        <translation>query &apos;%1&apos; (%2) -&gt; key &apos;%3&apos; (%4): %5</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Step %1, layer %2, all heads</source>
        <translation>Step %1, layer %2, all heads</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Checkpoint of step %1 (the newest at or before step %2), layer %3, head %4: adapters on minus off</source>
        <translation>Checkpoint of step %1 (the newest at or before step %2), layer %3, head %4: adapters on minus off</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Step %1, layer %2, head %3</source>
        <translation>Step %1, layer %2, head %3</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 tokens, max-pooled to %2 x %2</source>
        <translation>%1 tokens, max-pooled to %2 x %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>one label per %1 tokens</source>
        <translation>one label per %1 tokens</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>L%1</source>
        <translation>L%1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>H%1</source>
        <translation>H%1</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>layer %1, head %2</source>
        <translation>layer %1, head %2</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>bad</source>
        <translation>bad</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>L%1 H%2</source>
        <translation>L%1 H%2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>layer %1, head %2, step %3: entropy %4</source>
        <translation>layer %1, head %2, step %3: entropy %4</translation>
    </message>
</context>
<context>
    <name>AttentionReader</name>
    <message>
        <location filename="../app/attentionreader.cpp" line="+17"/>
        <source>Run %1, probe %2, step %3, layer %4: %5</source>
        <translation>Run %1, probe %2, step %3, layer %4: %5</translation>
    </message>
    <message>
        <location line="+158"/>
        <source>The run&apos;s attention maps cannot be read</source>
        <translation>The run&apos;s attention maps cannot be read</translation>
    </message>
    <message>
        <location line="+110"/>
        <source>The probe cannot be run through the checkpoint with the adapters on and off</source>
        <translation>The probe cannot be run through the checkpoint with the adapters on and off</translation>
    </message>
</context>
<context>
    <name>DataPage</name>
    <message>
        <location filename="../views/datapage.cpp" line="+69"/>
        <source>Datasets</source>
        <translation>Datasets</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Drop a JSONL, JSON, CSV or text file here, or</source>
        <translation>Drop a JSONL, JSON, CSV or text file here, or</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add dataset…</source>
        <translation>Add dataset…</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Preview</source>
        <translation>Preview</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens per example</source>
        <translation>Tokens per example</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+6"/>
        <location line="+32"/>
        <location line="+226"/>
        <source>tokens</source>
        <translation>tokens</translation>
    </message>
    <message>
        <location line="-264"/>
        <location line="+3"/>
        <location line="+35"/>
        <location line="+212"/>
        <location line="+86"/>
        <source>examples</source>
        <translation>examples</translation>
    </message>
    <message>
        <location line="-334"/>
        <source>Label balance</source>
        <translation>Label balance</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+261"/>
        <source>label</source>
        <translation>label</translation>
    </message>
    <message>
        <location line="-259"/>
        <source>Train vs validation</source>
        <translation>Train vs validation</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+258"/>
        <source>% of split</source>
        <translation>% of split</translation>
    </message>
    <message>
        <location line="-253"/>
        <source>Statistics</source>
        <translation>Statistics</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Chat format of conversations:</source>
        <translation>Chat format of conversations:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Automatic (the model&apos;s chat template)</source>
        <translation>Automatic (the model&apos;s chat template)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ChatML (Qwen)</source>
        <translation>ChatML (Qwen)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Llama 3</source>
        <translation>Llama 3</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>DeepSeek-R1</source>
        <translation>DeepSeek-R1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mistral [INST]</source>
        <translation>Mistral [INST]</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Llama 2 [INST] &lt;&lt;SYS&gt;&gt;</source>
        <translation>Llama 2 [INST] &lt;&lt;SYS&gt;&gt;</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>How a messages dataset becomes text (data.chat_template)</source>
        <translation>How a messages dataset becomes text (data.chat_template)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens per example with the selected model</source>
        <translation>Tokens per example with the selected model</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Example</source>
        <translation>Example</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Row of the dataset to show as the model sees it</source>
        <translation>Row of the dataset to show as the model sees it</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>&lt;span style=&quot;background-color:%1&quot;&gt;&amp;nbsp;loss&amp;nbsp;&lt;/span&gt; tokens the loss is computed on &amp;nbsp; &lt;span style=&quot;background-color:%2&quot;&gt;&amp;nbsp;context&amp;nbsp;&lt;/span&gt; tokens the model only reads</source>
        <translation>&lt;span style=&quot;background-color:%1&quot;&gt;&amp;nbsp;loss&amp;nbsp;&lt;/span&gt; tokens the loss is computed on &amp;nbsp; &lt;span style=&quot;background-color:%2&quot;&gt;&amp;nbsp;context&amp;nbsp;&lt;/span&gt; tokens the model only reads</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message numerus="yes">
        <location line="+15"/>
        <source>%n row(s)</source>
        <translation>
            <numerusform>%n row</numerusform>
            <numerusform>%n rows</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>First %n row(s) read (%1% of the file); scroll for more</source>
        <translation>
            <numerusform>First %n row read (%1% of the file); scroll for more</numerusform>
            <numerusform>First %n rows read (%1% of the file); scroll for more</numerusform>
        </translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Dataset &apos;%1&apos; added</source>
        <translation>Dataset &apos;%1&apos; added</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add dataset</source>
        <translation>Add dataset</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Datasets (*.jsonl *.ndjson *.json *.csv *.tsv *.txt);;All files (*)</source>
        <translation>Datasets (*.jsonl *.ndjson *.json *.csv *.tsv *.txt);;All files (*)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>This file cannot be read as a dataset</source>
        <translation>This file cannot be read as a dataset</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Reading %1…</source>
        <translation>Reading %1…</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No dataset yet: add one to start.</source>
        <translation>No dataset yet: add one to start.</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>The next run trains on &apos;%1&apos;.</source>
        <translation>The next run trains on &apos;%1&apos;.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The file cannot be previewed: %1</source>
        <translation>The file cannot be previewed: %1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No statistics: %1</source>
        <translation>No statistics: %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 examples (%2 train, %3 validation) · tokens per example: min %4, mean %5, max %6 · %7 longer than the default maximum length</source>
        <translation>%1 examples (%2 train, %3 validation) · tokens per example: min %4, mean %5, max %6 · %7 longer than the default maximum length</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>all</source>
        <translation>all</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No label column</source>
        <translation>No label column</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>train</source>
        <translation>train</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>validation</source>
        <translation>validation</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Statistics from an older version: re-add the dataset for this figure</source>
        <translation>Statistics from an older version: re-add the dataset for this figure</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Drift %1 exceeds %2: validation does not look like training</source>
        <translation>Drift %1 exceeds %2: validation does not look like training</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Drift %1 (warning above %2)</source>
        <translation>Drift %1 (warning above %2)</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Counting tokens with the selected model…</source>
        <translation>Counting tokens with the selected model…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Tokenizer: %1 · tokens per example: min %2, mean %3, max %4 · %5 of %6 examples (%7%) longer than data.max_length = %8 and cut</source>
        <translation>Tokenizer: %1 · tokens per example: min %2, mean %3, max %4 · %5 of %6 examples (%7%) longer than data.max_length = %8 and cut</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Conversations: %1</source>
        <translation>Conversations: %1</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>%1% cut at %2 tokens</source>
        <translation>%1% cut at %2 tokens</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Every example fits in %1 tokens</source>
        <translation>Every example fits in %1 tokens</translation>
    </message>
    <message numerus="yes">
        <location line="+20"/>
        <source>%n token(s), %1 in the loss</source>
        <translation>
            <numerusform>%n token, %1 in the loss</numerusform>
            <numerusform>%n tokens, %1 in the loss</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>cut from %n token(s)</source>
        <translation>
            <numerusform>cut from %n token</numerusform>
            <numerusform>cut from %n tokens</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>left out of training: nothing to predict</source>
        <translation>left out of training: nothing to predict</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation example</source>
        <translation>validation example</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>label: %1</source>
        <translation>label: %1</translation>
    </message>
</context>
<context>
    <name>DataTokenService</name>
    <message>
        <location filename="../app/datatokenservice.cpp" line="+37"/>
        <source>Cannot count the tokens of this dataset</source>
        <translation>Cannot count the tokens of this dataset</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Cannot show this example</source>
        <translation>Cannot show this example</translation>
    </message>
</context>
<context>
    <name>DatasetRegistrar</name>
    <message>
        <location filename="../app/datasetregistrar.cpp" line="+21"/>
        <source>The dataset was not added</source>
        <translation>The dataset was not added</translation>
    </message>
</context>
<context>
    <name>DatasetsModel</name>
    <message>
        <location filename="../app/datasetsmodel.cpp" line="+64"/>
        <source>%1 (conversations)</source>
        <translation>%1 (conversations)</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rows</source>
        <translation>Rows</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mapping</source>
        <translation>Mapping</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>File</source>
        <translation>File</translation>
    </message>
</context>
<context>
    <name>ExportPage</name>
    <message>
        <location filename="../views/exportpage.cpp" line="+99"/>
        <source>Run:</source>
        <translation>Run:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>PEFT LoRA adapter</source>
        <translation>PEFT LoRA adapter</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Merged Hugging Face checkpoint</source>
        <translation>Merged Hugging Face checkpoint</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF (llama.cpp / Ollama)</source>
        <translation>GGUF (llama.cpp / Ollama)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Format:</source>
        <translation>Format:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>F16 — half precision</source>
        <translation>F16 — half precision</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>BF16 — half precision, F32&apos;s range</source>
        <translation>BF16 — half precision, F32&apos;s range</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Q8_0 — 8-bit blocks</source>
        <translation>Q8_0 — 8-bit blocks</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>F32 — full precision</source>
        <translation>F32 — full precision</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quantisation:</source>
        <translation>Quantisation:</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Folder:</source>
        <translation>Folder:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Verify after export</source>
        <translation>Verify after export</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Reload the written files and compare their logits with the run&apos;s model on a few prompts.</source>
        <translation>Reload the written files and compare their logits with the run&apos;s model on a few prompts.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+229"/>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location line="-211"/>
        <source>Export check</source>
        <translation>Export check</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Probe prompts</source>
        <translation>Probe prompts</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Positions</source>
        <translation>Positions</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max |Δlogit|</source>
        <translation>Max |Δlogit|</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Top-1 agreement</source>
        <translation>Top-1 agreement</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tensor</source>
        <translation>Tensor</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max error</source>
        <translation>Max error</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Bound</source>
        <translation>Bound</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The files written appear here.</source>
        <translation>The files written appear here.</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Export cancelled</source>
        <translation>Export cancelled</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The files it was writing were removed.</source>
        <translation>The files it was writing were removed.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>%1 written</source>
        <translation>%1 written</translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>Exported and verified %n file(s)</source>
        <translation>
            <numerusform>Exported and verified %n file</numerusform>
            <numerusform>Exported and verified %n files</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The export check failed</source>
        <translation>The export check failed</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The files were kept in %1 for inspection, but they do not compute what the run computes: do not use them.</source>
        <translation>The files were kept in %1 for inspection, but they do not compute what the run computes: do not use them.</translation>
    </message>
    <message>
        <location line="+50"/>
        <source>GGUF holds language models; this run is a classifier.</source>
        <translation>GGUF holds language models; this run is a classifier.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>adapter_config.json + adapter_model.safetensors: load with PeftModel.from_pretrained on top of the base model. LoRA runs only.</source>
        <translation>adapter_config.json + adapter_model.safetensors: load with PeftModel.from_pretrained on top of the base model. LoRA runs only.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>config.json + model.safetensors with the adapters merged in: loads with AutoModelForCausalLM.from_pretrained, no PEFT needed.</source>
        <translation>config.json + model.safetensors with the adapters merged in: loads with AutoModelForCausalLM.from_pretrained, no PEFT needed.</translation>
    </message>
    <message>
        <location line="+187"/>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <location line="-299"/>
        <source>Export to</source>
        <translation>Export to</translation>
    </message>
    <message numerus="yes">
        <location line="+43"/>
        <source>Exported %n file(s)</source>
        <translation>
            <numerusform>Exported %n file</numerusform>
            <numerusform>Exported %n files</numerusform>
        </translation>
    </message>
    <message>
        <location line="+73"/>
        <source>One .gguf file with the adapters merged in and the tokenizer inside: runs in llama.cpp, Ollama and LM Studio. Language-model runs only.</source>
        <translation>One .gguf file with the adapters merged in and the tokenizer inside: runs in llama.cpp, Ollama and LM Studio. Language-model runs only.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>F16: half the size of F32, differences far below what changes an answer; the usual choice.</source>
        <translation>F16: half the size of F32, differences far below what changes an answer; the usual choice.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>BF16: half the size of F32 with F32&apos;s range and less precision; for models trained in bf16.</source>
        <translation>BF16: half the size of F32 with F32&apos;s range and less precision; for models trained in bf16.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Q8_0: about a quarter of F32&apos;s size (8 bits per weight and a scale per block of 32); small, measurable differences.</source>
        <translation>Q8_0: about a quarter of F32&apos;s size (8 bits per weight and a scale per block of 32); small, measurable differences.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>F32: full precision, the largest file; the same numbers as the run.</source>
        <translation>F32: full precision, the largest file; the same numbers as the run.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GGUF is not offered: this run is a classifier.</source>
        <translation>GGUF is not offered: this run is a classifier.</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Checking %1…</source>
        <translation>Checking %1…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writing %1…</source>
        <translation>Writing %1…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 of %2</source>
        <translation>%1 of %2</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Not verified</source>
        <translation>Not verified</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>PASSED</source>
        <translation>PASSED</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>FAILED</source>
        <translation>FAILED</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The export was written without checking it: nothing says it computes what the run computes. Tick “Verify after export” to check it.</source>
        <translation>The export was written without checking it: nothing says it computes what the run computes. Tick “Verify after export” to check it.</translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>The written files were reloaded and run on %n probe prompt(s) against the run&apos;s model.</source>
        <translation>
            <numerusform>The written files were reloaded and run on %n probe prompt against the run&apos;s model.</numerusform>
            <numerusform>The written files were reloaded and run on %n probe prompts against the run&apos;s model.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Largest |Δlogit|: %1 (tolerance %2)</source>
        <translation>Largest |Δlogit|: %1 (tolerance %2)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Largest |Δlogit|: %1 (not judged by it)</source>
        <translation>Largest |Δlogit|: %1 (not judged by it)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Top-1 agreement: %1 (at least %2 needed)</source>
        <translation>Top-1 agreement: %1 (at least %2 needed)</translation>
    </message>
    <message numerus="yes">
        <location line="+27"/>
        <source>Dequantisation error, worst %1 of %n tensor(s)</source>
        <translation>
            <numerusform>Dequantisation error, worst %1 of %n tensor</numerusform>
            <numerusform>Dequantisation error, worst %1 of %n tensors</numerusform>
        </translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Tokenizer: %1</source>
        <translation>Tokenizer: %1</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Choose a folder to export to</source>
        <translation>Choose a folder to export to</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Exporting…</source>
        <translation>Exporting…</translation>
    </message>
</context>
<context>
    <name>HeatmapPlot</name>
    <message>
        <location filename="../widgets/heatmapplot.cpp" line="+81"/>
        <source>row %1, column %2: %3</source>
        <translation>row %1, column %2: %3</translation>
    </message>
</context>
<context>
    <name>HfModelScanner</name>
    <message>
        <location filename="../app/hfmodelscanner.cpp" line="+35"/>
        <source>The Hugging Face cache cannot be listed</source>
        <translation>The Hugging Face cache cannot be listed</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>This folder is not a model</source>
        <translation>This folder is not a model</translation>
    </message>
</context>
<context>
    <name>HfModelsModel</name>
    <message>
        <location filename="../app/hfmodelsmodel.cpp" line="+102"/>
        <source>Ready</source>
        <translation>Ready</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Cannot be used</source>
        <translation>Cannot be used</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Data type</source>
        <comment>of the weights, e.g. BF16</comment>
        <translation>Data type</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Context</source>
        <comment>tokens the model can attend to</comment>
        <translation>Context</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Size on disk</source>
        <translation>Size on disk</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>Status</translation>
    </message>
</context>
<context>
    <name>HyperparametersPage</name>
    <message>
        <location filename="../views/hyperparameterspage.cpp" line="+44"/>
        <location line="+4"/>
        <source>General</source>
        <translation>General</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>Random seed</source>
        <translation>Random seed</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Same seed, data and config give the same run (split, init, order)</source>
        <translation>Same seed, data and config give the same run (split, init, order)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Device</source>
        <translation>Device</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>auto uses the GPU when one is present</source>
        <translation>auto uses the GPU when one is present</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <source>Data</source>
        <translation>Data</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Validation share</source>
        <translation>Validation share</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share of rows held out to measure generalisation</source>
        <translation>Share of rows held out to measure generalisation</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Maximum length (tokens)</source>
        <translation>Maximum length (tokens)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Longer examples are truncated</source>
        <translation>Longer examples are truncated</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <location line="+3"/>
        <location line="+4"/>
        <location line="+3"/>
        <location line="+3"/>
        <location line="+3"/>
        <location line="+3"/>
        <source>Optimisation</source>
        <translation>Optimisation</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>Learning rate</source>
        <translation>Learning rate</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Peak learning rate of AdamW after warm-up</source>
        <translation>Peak learning rate of AdamW after warm-up</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Batch size</source>
        <translation>Batch size</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples per optimizer step</source>
        <translation>Examples per optimizer step</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Micro-batch size</source>
        <translation>Micro-batch size</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples per forward pass; the batch is accumulated from micro-batches</source>
        <translation>Examples per forward pass; the batch is accumulated from micro-batches</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Weight decay</source>
        <translation>Weight decay</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decoupled decay on weight matrices</source>
        <translation>Decoupled decay on weight matrices</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient clipping</source>
        <translation>Gradient clipping</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Maximum global gradient norm; 0 turns it off</source>
        <translation>Maximum global gradient norm; 0 turns it off</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Label smoothing</source>
        <translation>Label smoothing</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share of probability spread over other tokens</source>
        <translation>Share of probability spread over other tokens</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Precision</source>
        <translation>Precision</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>bf16 and fp16 need a GPU to pay off</source>
        <translation>bf16 and fp16 need a GPU to pay off</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient checkpointing</source>
        <translation>Gradient checkpointing</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recompute activations in the backward pass instead of keeping them: off; full (each decoder layer from its input: least memory, about a third more compute); selective (only norms, the MLP activation and the attention softmax)</source>
        <translation>Recompute activations in the backward pass instead of keeping them: off; full (each decoder layer from its input: least memory, about a third more compute); selective (only norms, the MLP activation and the attention softmax)</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+3"/>
        <location line="+3"/>
        <source>Schedule</source>
        <translation>Schedule</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>Steps</source>
        <translation>Steps</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optimizer steps in the run</source>
        <translation>Optimizer steps in the run</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Warm-up steps</source>
        <translation>Warm-up steps</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps of linear rise to the peak learning rate</source>
        <translation>Steps of linear rise to the peak learning rate</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Decay</source>
        <translation>Decay</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning-rate shape after warm-up</source>
        <translation>Learning-rate shape after warm-up</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <location line="+3"/>
        <location line="+6"/>
        <source>Checks and checkpoints</source>
        <translation>Checks and checkpoints</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Evaluate every</source>
        <translation>Evaluate every</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps between validation passes; 0 = at the end</source>
        <translation>Steps between validation passes; 0 = at the end</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Checkpoint every</source>
        <translation>Checkpoint every</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps between checkpoints; 0 = at stop and end</source>
        <translation>Steps between checkpoints; 0 = at stop and end</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>NaN steps before going back</source>
        <translation>NaN steps before going back</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>NaN/inf steps skipped in a row before returning to the last checkpoint; 0 = fail at the first</source>
        <translation>NaN/inf steps skipped in a row before returning to the last checkpoint; 0 = fail at the first</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Learning rate after going back</source>
        <translation>Learning rate after going back</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Factor applied to the learning rate at each return to a checkpoint</source>
        <translation>Factor applied to the learning rate at each return to a checkpoint</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+5"/>
        <location line="+5"/>
        <source>Attention probes</source>
        <translation>Attention probes</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>Probe texts (one per line)</source>
        <translation>Probe texts (one per line)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Texts whose attention maps are captured while the run trains</source>
        <translation>Texts whose attention maps are captured while the run trains</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Dataset rows (comma-separated)</source>
        <translation>Dataset rows (comma-separated)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dataset rows (numbers from 0) whose attention maps are captured; with no text and no row, the first row</source>
        <translation>Dataset rows (numbers from 0) whose attention maps are captured; with no text and no row, the first row</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Capture every</source>
        <translation>Capture every</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optimizer steps between attention captures (also at the first and last step); 0 = none</source>
        <translation>Optimizer steps between attention captures (also at the first and last step); 0 = none</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>auto</source>
        <comment>micro-batch: chosen by the memory forecast</comment>
        <translation>auto</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Preset:</source>
        <translation>Preset:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Load</source>
        <translation>Load</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save as preset…</source>
        <translation>Save as preset…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reset to defaults</source>
        <translation>Reset to defaults</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Allowed</source>
        <translation>Allowed</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recommended</source>
        <translation>Recommended</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>none, or e.g. 0, 17, 42</source>
        <translation>none, or e.g. 0, 17, 42</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a number or auto</source>
        <translation>a number or auto</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>
auto: the largest micro-batch that the memory forecast fits on the device</source>
        <translation>
auto: the largest micro-batch that the memory forecast fits on the device</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>%1 or auto</source>
        <translation>%1 or auto</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Save preset</source>
        <translation>Save preset</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Preset name:</source>
        <translation>Preset name:</translation>
    </message>
    <message>
        <location line="+76"/>
        <source>the config is not valid</source>
        <translation>the config is not valid</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>outside the allowed range</source>
        <translation>outside the allowed range</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>outside the recommended range</source>
        <translation>outside the recommended range</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>This config cannot start a run</source>
        <translation>This config cannot start a run</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Some values are outside the recommended ranges</source>
        <translation>Some values are outside the recommended ranges</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Preset &apos;%1&apos; saved in the project</source>
        <translation>Preset &apos;%1&apos; saved in the project</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The preset cannot be read</source>
        <translation>The preset cannot be read</translation>
    </message>
</context>
<context>
    <name>LivePlot</name>
    <message>
        <location filename="../widgets/liveplot.cpp" line="+57"/>
        <source>Follow latest</source>
        <comment>plot: keep the newest points in view</comment>
        <translation>Follow latest</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Keep the newest points in view. Dragging or zooming the plot turns this off; a double-click on the plot turns it back on.</source>
        <translation>Keep the newest points in view. Dragging or zooming the plot turns this off; a double-click on the plot turns it back on.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../views/mainwindow.cpp" line="+44"/>
        <source>DeepTune projects (*.dtproj)</source>
        <translation>DeepTune projects (*.dtproj)</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Data</source>
        <translation>Data</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model &amp; LoRA</source>
        <translation>Model &amp; LoRA</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hyperparameters</source>
        <translation>Hyperparameters</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train</source>
        <translation>Train</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs</source>
        <translation>Runs</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Playground</source>
        <translation>Playground</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention</source>
        <translation>Attention</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Memory</source>
        <translation>Memory</translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Training: %1</source>
        <translation>Training: %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+4"/>
        <source>Idle</source>
        <translation>Idle</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>DeepTune Workbench %1</source>
        <translation>DeepTune Workbench %1</translation>
    </message>
    <message>
        <location line="+36"/>
        <location line="+112"/>
        <source>DeepTune Workbench</source>
        <translation>DeepTune Workbench</translation>
    </message>
    <message>
        <location line="-105"/>
        <source>Fine-tune transformer models with LoRA and watch what happens inside. A project is one file that holds your datasets, runs and their curves.</source>
        <translation>Fine-tune transformer models with LoRA and watch what happens inside. A project is one file that holds your datasets, runs and their curves.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>New sample project…</source>
        <translation>New sample project…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New empty project…</source>
        <translation>New empty project…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open project…</source>
        <translation>Open project…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>&amp;Project</source>
        <translation>&amp;Project</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New Project…</source>
        <translation>&amp;New Project…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New &amp;Sample Project…</source>
        <translation>New &amp;Sample Project…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open…</source>
        <translation>&amp;Open…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open &amp;Recent</source>
        <translation>Open &amp;Recent</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Close Project</source>
        <translation>&amp;Close Project</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Add Dataset…</source>
        <translation>&amp;Add Dataset…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Settings</source>
        <translation>&amp;Settings</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Language</source>
        <translation>&amp;Language</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>System language</source>
        <translation>System language</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>The language changes the next time the workbench starts.</source>
        <translation>The language changes the next time the workbench starts.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About DeepTune Workbench</source>
        <translation>&amp;About DeepTune Workbench</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>About DeepTune Workbench</source>
        <translation>About DeepTune Workbench</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>DeepTune Workbench %1
LoRA fine-tuning with every step recorded in a project file.
LibTorch %2</source>
        <translation>DeepTune Workbench %1
LoRA fine-tuning with every step recorded in a project file.
LibTorch %2</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Clear list</source>
        <translation>Clear list</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>%1 — DeepTune Workbench</source>
        <translation>%1 — DeepTune Workbench</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+36"/>
        <source>A run is in progress</source>
        <translation>A run is in progress</translation>
    </message>
    <message>
        <location line="-35"/>
        <source>Stop it before opening another project.</source>
        <translation>Stop it before opening another project.</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Stop it before closing the project.</source>
        <translation>Stop it before closing the project.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>New sample project</source>
        <translation>New sample project</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>New project</source>
        <translation>New project</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Open project</source>
        <translation>Open project</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All files (*)</source>
        <translation>All files (*)</translation>
    </message>
</context>
<context>
    <name>MemoryForecastLabel</name>
    <message>
        <location filename="../views/memoryforecastlabel.cpp" line="+17"/>
        <source>weights (frozen)</source>
        <translation>weights (frozen)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adapters (trainable)</source>
        <translation>adapters (trainable)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>gradients</source>
        <translation>gradients</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>optimizer state</source>
        <translation>optimizer state</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>activations &amp; temporaries</source>
        <translation>activations &amp; temporaries</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>allocator cache</source>
        <translation>allocator cache</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>outside LibTorch</source>
        <translation>outside LibTorch</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>fits</source>
        <comment>memory forecast</comment>
        <translation>fits</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>tight</source>
        <comment>memory forecast: fits with less than a tenth spare</comment>
        <translation>tight</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>will not fit</source>
        <comment>memory forecast</comment>
        <translation>will not fit</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: %1 of %2 free on %3 — %4</source>
        <translation>Memory: %1 of %2 free on %3 — %4</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Memory: %1 on %2</source>
        <translation>Memory: %1 on %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; auto picks micro-batch %1</source>
        <translation>; auto picks micro-batch %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>; auto finds no micro-batch that fits and would use 1</source>
        <translation>; auto finds no micro-batch that fits and would use 1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; largest micro-batch that fits: %1</source>
        <translation>; largest micro-batch that fits: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; not even a micro-batch of 1 fits</source>
        <translation>; not even a micro-batch of 1 fits</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>; gradient checkpointing (%1) saves %2</source>
        <translation>; gradient checkpointing (%1) saves %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>; full gradient checkpointing would need %1 (%2)</source>
        <translation>; full gradient checkpointing would need %1 (%2)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>• a smaller micro-batch: %1 fits (the batch stays; more steps are accumulated)</source>
        <translation>• a smaller micro-batch: %1 fits (the batch stays; more steps are accumulated)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>• a smaller micro-batch (the batch stays; more steps are accumulated)</source>
        <translation>• a smaller micro-batch (the batch stays; more steps are accumulated)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>• a shorter maximum length (now %1 tokens): activations grow with it</source>
        <translation>• a shorter maximum length (now %1 tokens): activations grow with it</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• bf16 precision on a GPU: half the bytes per weight and activation</source>
        <translation>• bf16 precision on a GPU: half the bytes per weight and activation</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• LoRA instead of full fine-tuning, or fewer LoRA targets: fewer gradients and less optimizer state</source>
        <translation>• LoRA instead of full fine-tuning, or fewer LoRA targets: fewer gradients and less optimizer state</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>• full gradient checkpointing: %1 at the peak instead of %2 (about a third more compute)</source>
        <translation>• full gradient checkpointing: %1 at the peak instead of %2 (about a third more compute)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>• full gradient checkpointing instead of selective: each layer recomputed from its input</source>
        <translation>• full gradient checkpointing instead of selective: each layer recomputed from its input</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>At the step&apos;s peak, micro-batch %1 × %2 tokens:</source>
        <translation>At the step&apos;s peak, micro-batch %1 × %2 tokens:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Whole process on the device: %1</source>
        <translation>Whole process on the device: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Free now: %1 of %2</source>
        <translation>Free now: %1 of %2</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>With gradient checkpointing %1: %2 on the device</source>
        <translation>With gradient checkpointing %1: %2 on the device</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: computing…</source>
        <translation>Memory: computing…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: no forecast (%1)</source>
        <translation>Memory: no forecast (%1)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This run will not fit in memory</source>
        <translation>This run will not fit in memory</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The forecast says this run&apos;s training step will not fit on %1.</source>
        <translation>The forecast says this run&apos;s training step will not fit on %1.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>It needs %1 at its peak; %2 is free now. Training would likely stop at the first step with an out-of-memory error (on a GPU the micro-batch is halved until it fits, which is slower).

To make it fit, try:
%3</source>
        <translation>It needs %1 at its peak; %2 is free now. Training would likely stop at the first step with an out-of-memory error (on a GPU the micro-batch is halved until it fits, which is slower).

To make it fit, try:
%3</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Start anyway</source>
        <translation>Start anyway</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Resume anyway</source>
        <translation>Resume anyway</translation>
    </message>
</context>
<context>
    <name>MemoryForecaster</name>
    <message>
        <location filename="../app/memoryforecaster.cpp" line="+66"/>
        <source>Cannot forecast the memory of this config</source>
        <translation>Cannot forecast the memory of this config</translation>
    </message>
</context>
<context>
    <name>MemoryPage</name>
    <message>
        <location filename="../views/memorypage.cpp" line="+69"/>
        <source>weights (frozen)</source>
        <translation>weights (frozen)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters that do not train: the base model under the adapters.</source>
        <translation>Parameters that do not train: the base model under the adapters.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adapters (trainable)</source>
        <translation>adapters (trainable)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters that train: LoRA adapters and a classification head (every weight in full fine-tuning).</source>
        <translation>Parameters that train: LoRA adapters and a classification head (every weight in full fine-tuning).</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>gradients</source>
        <translation>gradients</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradients of the trainable weights, alive from the backward pass to the update.</source>
        <translation>Gradients of the trainable weights, alive from the backward pass to the update.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>optimizer state</source>
        <translation>optimizer state</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>AdamW&apos;s two moments per trainable weight.</source>
        <translation>AdamW&apos;s two moments per trainable weight.</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+13"/>
        <source>activations &amp; temporaries</source>
        <translation>activations &amp; temporaries</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>At the step&apos;s allocator peak, what the categories below do not explain: activations kept for the backward pass and temporaries.</source>
        <translation>At the step&apos;s allocator peak, what the categories below do not explain: activations kept for the backward pass and temporaries.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>allocator cache</source>
        <translation>allocator cache</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reserved minus the step&apos;s peak allocated (never below 0): memory LibTorch&apos;s caching allocator holds from the device but no tensor used even at the step&apos;s peak.</source>
        <translation>Reserved minus the step&apos;s peak allocated (never below 0): memory LibTorch&apos;s caching allocator holds from the device but no tensor used even at the step&apos;s peak.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>outside LibTorch</source>
        <translation>outside LibTorch</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Used on the device minus reserved: the CUDA context, libraries&apos; workspaces and other processes on the same device.</source>
        <translation>Used on the device minus reserved: the CUDA context, libraries&apos; workspaces and other processes on the same device.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>At the step&apos;s peak of the tensors the trainer counts, what the categories below do not explain: activations kept for the backward pass and temporaries.</source>
        <translation>At the step&apos;s peak of the tensors the trainer counts, what the categories below do not explain: activations kept for the backward pass and temporaries.</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+5"/>
        <source>other (process)</source>
        <translation>other (process)</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>The process&apos;s resident size minus the step&apos;s peak of counted tensors: libraries, the program, the UI, and memory freed but not yet returned to the system.</source>
        <translation>The process&apos;s resident size minus the step&apos;s peak of counted tensors: libraries, the program, the UI, and memory freed but not yet returned to the system.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The process&apos;s resident size minus the tensors counted above: activations, temporaries, libraries, the program and the UI.</source>
        <translation>The process&apos;s resident size minus the tensors counted above: activations, temporaries, libraries, the program and the UI.</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Run:</source>
        <translation>Run:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Compare with:</source>
        <translation>Compare with:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Draws the per-step peak of another run over this one.</source>
        <translation>Draws the per-step peak of another run over this one.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Trainer&apos;s tensors only</source>
        <translation>Trainer&apos;s tensors only</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Leaves out what the process or the device holds beyond the categories the trainer counts, so that small categories become visible.</source>
        <translation>Leaves out what the process or the device holds beyond the categories the trainer counts, so that small categories become visible.</translation>
    </message>
    <message>
        <location line="+132"/>
        <source>OOM</source>
        <comment>out of memory, a short mark on the plot</comment>
        <translation>OOM</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>out of memory: micro-batch now %1</source>
        <translation>out of memory: micro-batch now %1</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>forecast peak (full recomputation)</source>
        <translation>forecast peak (full recomputation)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>forecast peak (selective recomputation)</source>
        <translation>forecast peak (selective recomputation)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>forecast peak</source>
        <translation>forecast peak</translation>
    </message>
    <message>
        <location line="+106"/>
        <source>peak allocated (per step)</source>
        <translation>peak allocated (per step)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>resident (per step)</source>
        <translation>resident (per step)</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+32"/>
        <source>compared run</source>
        <translation>compared run</translation>
    </message>
    <message>
        <location line="-27"/>
        <source>allocated (end of step)</source>
        <translation>allocated (end of step)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>reserved</source>
        <translation>reserved</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>device memory (CUDA)</source>
        <translation>device memory (CUDA)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>host memory (process)</source>
        <translation>host memory (process)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Device memory as LibTorch&apos;s caching allocator and the CUDA driver report it, every step. Hover the timeline for a step&apos;s numbers, the legend entries below for what each category counts.</source>
        <translation>Device memory as LibTorch&apos;s caching allocator and the CUDA driver report it, every step. Hover the timeline for a step&apos;s numbers, the legend entries below for what each category counts.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Host memory: this run trained on the CPU. The trainer counts its tensors&apos; bytes itself, so each step&apos;s peak is measured and the activations and temporaries at that peak have a number, comparable with the forecast; the rest of the process&apos;s resident size is shown above them. The allocator&apos;s cache is shown for CUDA runs only.</source>
        <translation>Host memory: this run trained on the CPU. The trainer counts its tensors&apos; bytes itself, so each step&apos;s peak is measured and the activations and temporaries at that peak have a number, comparable with the forecast; the rest of the process&apos;s resident size is shown above them. The allocator&apos;s cache is shown for CUDA runs only.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Host memory: this run was recorded before the trainer counted the step&apos;s peak on the CPU. The timeline shows the process&apos;s resident size and the part of it the trainer&apos;s tensors account for; activations are inside the rest of the process.</source>
        <translation>Host memory: this run was recorded before the trainer counted the step&apos;s peak on the CPU. The timeline shows the process&apos;s resident size and the part of it the trainer&apos;s tensors account for; activations are inside the rest of the process.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>peak of &apos;%1&apos; (full recomputation)</source>
        <translation>peak of &apos;%1&apos; (full recomputation)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>peak of &apos;%1&apos; (selective recomputation)</source>
        <translation>peak of &apos;%1&apos; (selective recomputation)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>peak of &apos;%1&apos;</source>
        <translation>peak of &apos;%1&apos;</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>%1 in use of the device&apos;s %2</source>
        <translation>%1 in use of the device&apos;s %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 in use on the device</source>
        <translation>%1 in use on the device</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Step %1: %2 (reserved %3, peak allocated %4)</source>
        <translation>Step %1: %2 (reserved %3, peak allocated %4)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Step %1: %2 resident in host memory (peak of counted tensors %3)</source>
        <translation>Step %1: %2 resident in host memory (peak of counted tensors %3)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Step %1: %2 resident in host memory</source>
        <translation>Step %1: %2 resident in host memory</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Open a project to see the memory its runs use.</source>
        <translation>Open a project to see the memory its runs use.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This project has no runs yet. Start one on the Train page: its memory appears here step by step.</source>
        <translation>This project has no runs yet. Start one on the Train page: its memory appears here step by step.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose a run above.</source>
        <translation>Choose a run above.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Waiting for the first step of run &apos;%1&apos;…</source>
        <translation>Waiting for the first step of run &apos;%1&apos;…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reading the memory samples of run &apos;%1&apos;…</source>
        <translation>Reading the memory samples of run &apos;%1&apos;…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Run &apos;%1&apos; has no memory samples: it was trained before DeepTune recorded memory, or stopped before its first step. Runs trained from now on record it every step.</source>
        <translation>Run &apos;%1&apos; has no memory samples: it was trained before DeepTune recorded memory, or stopped before its first step. Runs trained from now on record it every step.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>none</source>
        <translation>none</translation>
    </message>
</context>
<context>
    <name>MemoryTimeline</name>
    <message>
        <location filename="../widgets/memorytimeline.cpp" line="+52"/>
        <source>step</source>
        <translation>step</translation>
    </message>
    <message>
        <location line="+296"/>
        <source>peak %1 at step %2</source>
        <comment>memory timeline: the highest step</comment>
        <translation>peak %1 at step %2</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>&lt;b&gt;step %1&lt;/b&gt;: %2</source>
        <translation>&lt;b&gt;step %1&lt;/b&gt;: %2</translation>
    </message>
</context>
<context>
    <name>MessageBanner</name>
    <message>
        <location filename="../views/messagebanner.cpp" line="+30"/>
        <source>Dismiss</source>
        <translation>Dismiss</translation>
    </message>
</context>
<context>
    <name>ModelPage</name>
    <message>
        <location filename="../views/modelpage.cpp" line="+53"/>
        <source>Base model</source>
        <translation>Base model</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Open model folder…</source>
        <translation>Open model folder…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A Hugging Face model folder: config.json with its *.safetensors weights</source>
        <translation>A Hugging Face model folder: config.json with its *.safetensors weights</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start from:</source>
        <translation>Start from:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Causal language model (continue text)</source>
        <translation>Causal language model (continue text)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Classification (text → label)</source>
        <translation>Classification (text → label)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Task:</source>
        <translation>Task:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>LoRA adapters (base frozen)</source>
        <translation>LoRA adapters (base frozen)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Full fine-tune (every weight trains)</source>
        <translation>Full fine-tune (every weight trains)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training:</source>
        <translation>Training:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Standard</source>
        <translation>Standard</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>With temperature</source>
        <translation>With temperature</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention:</source>
        <translation>Attention:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Temperature:</source>
        <translation>Temperature:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Hugging Face models on this computer</source>
        <translation>Hugging Face models on this computer</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Look again</source>
        <translation>Look again</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>List the Hugging Face cache again, e.g. after a download</source>
        <translation>List the Hugging Face cache again, e.g. after a download</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Rank r:</source>
        <translation>Rank r:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Alpha:</source>
        <translation>Alpha:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Dropout:</source>
        <translation>Dropout:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rank-stabilised scaling (alpha / √r)</source>
        <translation>Rank-stabilised scaling (alpha / √r)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Target modules:</source>
        <translation>Target modules:</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Model:</source>
        <translation>Model:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trainable:</source>
        <translation>Trainable:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share trained:</source>
        <translation>Share trained:</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Open model folder</source>
        <translation>Open model folder</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Looking in %1…</source>
        <translation>Looking in %1…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No models in %1. Models downloaded with the Hugging Face tools (huggingface-cli download, transformers) appear here.</source>
        <translation>No models in %1. Models downloaded with the Hugging Face tools (huggingface-cli download, transformers) appear here.</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n model(s) in %1; choose one to start from it.</source>
        <translation>
            <numerusform>%n model in %1; choose it to start from it.</numerusform>
            <numerusform>%n models in %1; choose one to start from it.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+22"/>
        <source>%1 cannot be used as a base model</source>
        <translation>%1 cannot be used as a base model</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Hugging Face: %1</source>
        <translation>Hugging Face: %1</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Preset: %1</source>
        <translation>Preset: %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Run: %1 (its latest weights)</source>
        <translation>Run: %1 (its latest weights)</translation>
    </message>
    <message>
        <location line="+60"/>
        <source>computing…</source>
        <translation>computing…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1 parameters</source>
        <translation>%1 parameters</translation>
    </message>
    <message numerus="yes">
        <location line="+5"/>
        <source>%n module(s) adapted</source>
        <translation>
            <numerusform>%n module adapted</numerusform>
            <numerusform>%n modules adapted</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ModelSummarizer</name>
    <message>
        <location filename="../app/modelsummarizer.cpp" line="+66"/>
        <source>Cannot build this model</source>
        <translation>Cannot build this model</translation>
    </message>
</context>
<context>
    <name>PlaygroundPage</name>
    <message>
        <location filename="../views/playgroundpage.cpp" line="+72"/>
        <source>Model:</source>
        <translation>Model:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Open model folder…</source>
        <translation>Open model folder…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Type a prompt…</source>
        <translation>Type a prompt…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>0 picks the most likely token every time (greedy).</source>
        <translation>0 picks the most likely token every time (greedy).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Temperature:</source>
        <translation>Temperature:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sample from the smallest set of tokens whose probabilities add up to this; 1: no limit.</source>
        <translation>Sample from the smallest set of tokens whose probabilities add up to this; 1: no limit.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-p:</source>
        <translation>Top-p:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sample from this many most likely tokens; 0: no limit.</source>
        <translation>Sample from this many most likely tokens; 0: no limit.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Top-k:</source>
        <translation>Top-k:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Above 1 makes tokens already in the text less likely; 1: none.</source>
        <translation>Above 1 makes tokens already in the text less likely; 1: none.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repetition penalty:</source>
        <translation>Repetition penalty:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Max new tokens:</source>
        <translation>Max new tokens:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The same seed gives the same text when sampling.</source>
        <translation>The same seed gives the same text when sampling.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Seed:</source>
        <translation>Seed:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>comma or newline separated</source>
        <translation>comma or newline separated</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Generation ends before any of these strings. Separate them with commas or newlines; \n stands for a newline, \, for a comma, a backslash before a space keeps it.</source>
        <translation>Generation ends before any of these strings. Separate them with commas or newlines; \n stands for a newline, \, for a comma, a backslash before a space keeps it.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stop strings:</source>
        <translation>Stop strings:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat (the model&apos;s chat template)</source>
        <translation>Chat (the model&apos;s chat template)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Side by side: base and tuned</source>
        <translation>Side by side: base and tuned</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Generate</source>
        <translation>Generate</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stop</source>
        <translation>Stop</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Base model</source>
        <translation>Base model</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+211"/>
        <source>Output</source>
        <translation>Output</translation>
    </message>
    <message>
        <location line="-204"/>
        <source>Open model folder</source>
        <translation>Open model folder</translation>
    </message>
    <message>
        <location line="+91"/>
        <source>%1 (run, step %2)</source>
        <translation>%1 (run, step %2)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 (folder)</source>
        <translation>%1 (folder)</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Loading the model…</source>
        <translation>Loading the model…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>%1 · context %2 tokens</source>
        <translation>%1 · context %2 tokens</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This model has no chat template we know.</source>
        <translation>This model has no chat template we know.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The same prompt through the base model (adapter off) and through the tuned run (adapter on).</source>
        <translation>The same prompt through the base model (adapter off) and through the tuned run (adapter on).</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Only a run has a base model to compare with.</source>
        <translation>Only a run has a base model to compare with.</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Choose a model first</source>
        <translation>Choose a model first</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train a causal language model run, or open a model folder.</source>
        <translation>Train a causal language model run, or open a model folder.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tuned run</source>
        <translation>Tuned run</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Generating…</source>
        <translation>Generating…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Stopping…</source>
        <translation>Stopping…</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%n token(s) · %1 tokens/s · %2</source>
        <translation>
            <numerusform>%n token · %1 tokens/s · %2</numerusform>
            <numerusform>%n tokens · %1 tokens/s · %2</numerusform>
        </translation>
    </message>
    <message>
        <location line="+50"/>
        <source>ended by the model</source>
        <translation>ended by the model</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stop string reached</source>
        <translation>stop string reached</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>max new tokens reached</source>
        <translation>max new tokens reached</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>context full</source>
        <translation>context full</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>stopped</translation>
    </message>
</context>
<context>
    <name>PlaygroundService</name>
    <message>
        <location filename="../app/playgroundservice.cpp" line="+144"/>
        <location line="+17"/>
        <source>The model could not be loaded</source>
        <translation>The model could not be loaded</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The generation failed</source>
        <translation>The generation failed</translation>
    </message>
</context>
<context>
    <name>ProjectSession</name>
    <message>
        <location filename="../app/projectsession.cpp" line="+40"/>
        <source>Could not open the project</source>
        <translation>Could not open the project</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+12"/>
        <source>Could not create the project</source>
        <translation>Could not create the project</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>%1: a file with this name already exists</source>
        <translation>%1: a file with this name already exists</translation>
    </message>
    <message>
        <location line="+61"/>
        <location line="+4"/>
        <source>The preset was not saved</source>
        <translation>The preset was not saved</translation>
    </message>
    <message>
        <location line="-4"/>
        <location line="+11"/>
        <source>No project is open.</source>
        <translation>No project is open.</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+4"/>
        <source>The run was not renamed</source>
        <translation>The run was not renamed</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <location filename="../views/filedialogs.cpp" line="+23"/>
        <source>Folder</source>
        <translation>Folder</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>File</source>
        <translation>File</translation>
    </message>
</context>
<context>
    <name>RunExporter</name>
    <message>
        <location filename="../app/runexporter.cpp" line="+135"/>
        <source>The export failed</source>
        <translation>The export failed</translation>
    </message>
</context>
<context>
    <name>RunHistoryReader</name>
    <message>
        <location filename="../app/runhistoryreader.cpp" line="+28"/>
        <source>The run&apos;s records cannot be read</source>
        <translation>The run&apos;s records cannot be read</translation>
    </message>
</context>
<context>
    <name>RunRemover</name>
    <message>
        <location filename="../app/runremover.cpp" line="+21"/>
        <source>The run&apos;s dependents cannot be read</source>
        <translation>The run&apos;s dependents cannot be read</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The run was not deleted</source>
        <translation>The run was not deleted</translation>
    </message>
</context>
<context>
    <name>RunsModel</name>
    <message>
        <location filename="../app/runsmodel.cpp" line="+73"/>
        <source>created</source>
        <translation>created</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>running</source>
        <translation>running</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>paused</source>
        <translation>paused</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>stopped</source>
        <translation>stopped</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>completed</source>
        <translation>completed</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>failed</source>
        <translation>failed</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>interrupted</source>
        <translation>interrupted</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>preparing</source>
        <translation>preparing</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>Run</source>
        <translation>Run</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Step</source>
        <translation>Step</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Dataset</source>
        <translation>Dataset</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Base model</source>
        <translation>Base model</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mode</source>
        <translation>Mode</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Learning rate</source>
        <translation>Learning rate</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>LoRA r</source>
        <translation>LoRA r</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Train loss</source>
        <translation>Train loss</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Val loss</source>
        <translation>Val loss</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Created</source>
        <translation>Created</translation>
    </message>
</context>
<context>
    <name>RunsPage</name>
    <message>
        <location filename="../views/runspage.cpp" line="+52"/>
        <source>Show in Train</source>
        <translation>Show in Train</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename</source>
        <translation>Rename</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Duplicate as new config</source>
        <translation>Duplicate as new config</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete…</source>
        <translation>Delete…</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Compare:</source>
        <translation>Compare:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Validation loss</source>
        <translation>Validation loss</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training loss</source>
        <translation>Training loss</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning rate</source>
        <translation>Learning rate</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient norm</source>
        <translation>Gradient norm</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tokens/s</source>
        <translation>Tokens/s</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>step</source>
        <translation>step</translation>
    </message>
    <message>
        <location line="+201"/>
        <source>Run &apos;%1&apos; failed</source>
        <translation>Run &apos;%1&apos; failed</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>• &apos;%1&apos; has not started yet and cannot start without it.</source>
        <translation>• &apos;%1&apos; has not started yet and cannot start without it.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• &apos;%1&apos; started from its weights and keeps its own copy.</source>
        <translation>• &apos;%1&apos; started from its weights and keeps its own copy.</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n run(s) start from this run&apos;s weights:</source>
        <translation>
            <numerusform>%n run starts from this run&apos;s weights:</numerusform>
            <numerusform>%n runs start from this run&apos;s weights:</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Delete run</source>
        <translation>Delete run</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete run &apos;%1&apos; with its metrics, logs and checkpoints?</source>
        <translation>Delete run &apos;%1&apos; with its metrics, logs and checkpoints?</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>The run was not resumed</source>
        <translation>The run was not resumed</translation>
    </message>
    <message>
        <location line="-63"/>
        <source>Exports written elsewhere are kept. This cannot be undone.</source>
        <translation>Exports written elsewhere are kept. This cannot be undone.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <location line="-126"/>
        <location line="+147"/>
        <source>The run&apos;s config cannot be read</source>
        <translation>The run&apos;s config cannot be read</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The config of &apos;%1&apos; is now the draft</source>
        <translation>The config of &apos;%1&apos; is now the draft</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change it in Model &amp; LoRA or Hyperparameters, then start it in Train.</source>
        <translation>Change it in Model &amp; LoRA or Hyperparameters, then start it in Train.</translation>
    </message>
</context>
<context>
    <name>TrainPage</name>
    <message>
        <location filename="../views/trainpage.cpp" line="+55"/>
        <source>Run name:</source>
        <translation>Run name:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>automatic</source>
        <translation>automatic</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Start</source>
        <translation>Start</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation>Stop</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>step %v of %m</source>
        <translation>step %v of %m</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Steps whose loss or gradient was not a number were skipped without an update; after several in a row the run went back to its last checkpoint with a lower learning rate.</source>
        <translation>Steps whose loss or gradient was not a number were skipped without an update; after several in a row the run went back to its last checkpoint with a lower learning rate.</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Loss</source>
        <translation>Loss</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+5"/>
        <location line="+4"/>
        <location line="+4"/>
        <source>step</source>
        <translation>step</translation>
    </message>
    <message>
        <location line="-13"/>
        <source>loss</source>
        <translation>loss</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>training</source>
        <translation>training</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation</source>
        <translation>validation</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Learning rate</source>
        <translation>Learning rate</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+1"/>
        <source>learning rate</source>
        <translation>learning rate</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient norm</source>
        <translation>Gradient norm</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>norm before clipping</source>
        <translation>norm before clipping</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>gradient norm</source>
        <translation>gradient norm</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Throughput</source>
        <translation>Throughput</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+1"/>
        <source>tokens/s</source>
        <translation>tokens/s</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The run&apos;s log appears here.</source>
        <translation>The run&apos;s log appears here.</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>The run could not start</source>
        <translation>The run could not start</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>The run config is not valid</source>
        <translation>The run config is not valid</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No dataset chosen</source>
        <translation>No dataset chosen</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick the dataset to train on in the Data page.</source>
        <translation>Pick the dataset to train on in the Data page.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>checking memory…</source>
        <translation>checking memory…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The run was not started</source>
        <translation>The run was not started</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>went back to the checkpoint at step %1 after steps that were not a number; the curves from there are drawn again</source>
        <translation>went back to the checkpoint at step %1 after steps that were not a number; the curves from there are drawn again</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>NaN/inf steps skipped: %1</source>
        <translation>NaN/inf steps skipped: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>learning rate ×%1 after going back</source>
        <translation>learning rate ×%1 after going back</translation>
    </message>
    <message>
        <location line="+35"/>
        <location line="+206"/>
        <source>The run failed</source>
        <translation>The run failed</translation>
    </message>
    <message>
        <location line="-198"/>
        <source>Following run &apos;%1&apos;, trained by another process</source>
        <translation>Following run &apos;%1&apos;, trained by another process</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Its curves update as it records them (host %1, pid %2).</source>
        <translation>Its curves update as it records them (host %1, pid %2).</translation>
    </message>
    <message>
        <location line="+93"/>
        <source>Run &apos;%1&apos; ended: %2</source>
        <translation>Run &apos;%1&apos; ended: %2</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>validation at step %1: loss %2</source>
        <translation>validation at step %1: loss %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, accuracy %1</source>
        <translation>, accuracy %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, perplexity %1</source>
        <translation>, perplexity %1</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Run &apos;%1&apos; completed</source>
        <translation>Run &apos;%1&apos; completed</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Run &apos;%1&apos; stopped</source>
        <translation>Run &apos;%1&apos; stopped</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>It can be resumed from its last checkpoint in the Runs page.</source>
        <translation>It can be resumed from its last checkpoint in the Runs page.</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>error</source>
        <translation>error</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>warning</source>
        <translation>warning</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>ETA %1</source>
        <translation>ETA %1</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../workbench/main.cpp" line="+27"/>
        <source>DeepTune Workbench: LoRA fine-tuning you can watch.</source>
        <translation>DeepTune Workbench: LoRA fine-tuning you can watch.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Project file to open</source>
        <translation>Project file to open</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Save a PNG of the window and quit</source>
        <translation>Save a PNG of the window and quit</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Page to show first</source>
        <translation>Page to show first</translation>
    </message>
</context>
</TS>
