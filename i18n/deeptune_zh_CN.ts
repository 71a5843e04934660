<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddDatasetDialog</name>
    <message>
        <location filename="../views/adddatasetdialog.cpp" line="+26"/>
        <source>Add dataset</source>
        <translation>添加数据集</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>File:</source>
        <translation>文件：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>JSON Lines (one object per line)</source>
        <translation>JSON Lines（每行一个对象）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>JSON (array of objects)</source>
        <translation>JSON（对象数组）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV (header row)</source>
        <translation>CSV（首行为表头）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Plain text (one example per line)</source>
        <translation>纯文本（每行一个样本）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Text (learn the whole text)</source>
        <translation>文本（学习全部文本）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt and response (learn the response)</source>
        <translation>提示与回复（学习回复部分）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Text and label (classification)</source>
        <translation>文本与标签（分类）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Conversation (learn the assistant turns)</source>
        <translation>对话（学习助手的回复）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples are:</source>
        <translation>样本类型：</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Text column:</source>
        <translation>文本列：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt column:</source>
        <translation>提示列：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Response column:</source>
        <translation>回复列：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Label column:</source>
        <translation>标签列：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Messages column:</source>
        <translation>消息列：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Detected columns: %1</source>
        <translation>检测到的列：%1</translation>
    </message>
</context>
<context>
    <name>AttentionPage</name>
    <message>
        <location filename="../views/attentionpage.cpp" line="+58"/>
        <source>One head</source>
        <translation>单个注意力头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean over heads (layer)</source>
        <translation>各头平均（整层）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Difference between two steps</source>
        <translation>两个步之间的差</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Adapter on / off</source>
        <translation>适配器开 / 关</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The probe through the checkpoint at or before the step, with the adapters on minus off</source>
        <translation>探针经过该步或之前的检查点：开启适配器减去关闭适配器</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The step subtracted from the current one</source>
        <translation>从当前步中减去的步</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Run:</source>
        <translation>运行：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Probe:</source>
        <translation>探针：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Layer:</source>
        <translation>层：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Head:</source>
        <translation>头：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>View:</source>
        <translation>视图：</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+137"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location line="-116"/>
        <source>key token</source>
        <translation>键词元</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>query token</source>
        <translation>查询词元</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Every head of the step on one colour scale (0 to the step&apos;s largest weight); click one to show it</source>
        <translation>该步的所有注意力头，使用同一色标（0 到该步的最大权重）；点击一个以显示它</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Head</source>
        <translation>头</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Entropy</source>
        <translation>熵</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Sink</source>
        <translation>汇聚</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Previous</source>
        <translation>前一词元</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>layer, head</source>
        <translation>层，头</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>entropy (nats)</source>
        <translation>熵（奈特）</translation>
    </message>
    <message>
        <location line="+90"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+77"/>
        <source>%1 (#%2)</source>
        <translation>%1（#%2）</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>%1: %2…</source>
        <translation>%1：%2…</translation>
    </message>
    <message>
        <location line="+127"/>
        <source>no steps</source>
        <translation>没有步</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>step %1 (%2 of %3)</source>
        <translation>第 %1 步（%3 个中的第 %2 个）</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>minus step %1</source>
        <translation>减去第 %1 步</translation>
    </message>
    <message>
        <location line="+70"/>
        <source>Open a project to see the attention its runs recorded.</source>
        <translation>打开一个项目以查看其运行记录的注意力。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No run of this project has recorded attention yet. Runs capture it for their probes (probe.text, probe.rows; the first validation row by default) every probe.attention_every steps.</source>
        <translation>此项目还没有运行记录过注意力。运行会每隔 probe.attention_every 步为其探针（probe.text、probe.rows；默认为第一条验证行）捕获注意力。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This run has no attention probes.</source>
        <translation>此运行没有注意力探针。</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>A stored attention map is damaged: %1</source>
        <translation>一个已存储的注意力图已损坏：%1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>No adapter comparison for step %1.</source>
        <translation>第 %1 步没有适配器对比。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Running the probe through the checkpoint with the adapters on and off…</source>
        <translation>正在用检查点分别在开启和关闭适配器时运行探针…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Layer %1 has no map to show at this step.</source>
        <translation>第 %1 层在此步没有可显示的注意力图。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>mean of %1 heads</source>
        <translation>%1 个头的平均</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>adapters on minus off</source>
        <translation>适配器开减去关</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>step %1 minus step %2</source>
        <translation>第 %1 步减第 %2 步</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>weight</source>
        <translation>权重</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>query &apos;%1&apos; (%2) -&gt; key &apos;%3&apos; (%4): %5</source>
        <translation>查询“%1”（%2）-&gt; 键“%3”（%4）：%5</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Step %1, layer %2, all heads</source>
        <translation>第 %1 步，第 %2 层，所有头</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Checkpoint of step %1 (the newest at or before step %2), layer %3, head %4: adapters on minus off</source>
        <translation>第 %1 步的检查点（第 %2 步或之前最新的一个），第 %3 层，第 %4 个头：适配器开减去关</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Step %1, layer %2, head %3</source>
        <translation>第 %1 步，第 %2 层，第 %3 个头</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 tokens, max-pooled to %2 x %2</source>
        <translation>%1 个词元，最大池化为 %2 x %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>one label per %1 tokens</source>
        <translation>每 %1 个词元标注一个</translation>
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
        <translation>第 %1 层，第 %2 个头</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>bad</source>
        <translation>损坏</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>L%1 H%2</source>
        <translation>L%1 H%2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>layer %1, head %2, step %3: entropy %4</source>
        <translation>第 %1 层，第 %2 个头，第 %3 步：熵 %4</translation>
    </message>
</context>
<context>
    <name>AttentionReader</name>
    <message>
        <location filename="../app/attentionreader.cpp" line="+17"/>
        <source>Run %1, probe %2, step %3, layer %4: %5</source>
        <translation>运行 %1，探针 %2，第 %3 步，第 %4 层：%5</translation>
    </message>
    <message>
        <location line="+158"/>
        <source>The run&apos;s attention maps cannot be read</source>
        <translation>无法读取该运行的注意力图</translation>
    </message>
    <message>
        <location line="+110"/>
        <source>The probe cannot be run through the checkpoint with the adapters on and off</source>
        <translation>无法用检查点在开启和关闭适配器时运行探针</translation>
    </message>
</context>
<context>
    <name>DataPage</name>
    <message>
        <location filename="../views/datapage.cpp" line="+69"/>
        <source>Datasets</source>
        <translation>数据集</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Drop a JSONL, JSON, CSV or text file here, or</source>
        <translation>将 JSONL、JSON、CSV 或文本文件拖放到此处，或</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add dataset…</source>
        <translation>添加数据集…</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens per example</source>
        <translation>每个样本的词元数</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+6"/>
        <location line="+32"/>
        <location line="+226"/>
        <source>tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <location line="-264"/>
        <location line="+3"/>
        <location line="+35"/>
        <location line="+212"/>
        <location line="+86"/>
        <source>examples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <location line="-334"/>
        <source>Label balance</source>
        <translation>标签分布</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+261"/>
        <source>label</source>
        <translation>标签</translation>
    </message>
    <message>
        <location line="-259"/>
        <source>Train vs validation</source>
        <translation>训练集与验证集对比</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+258"/>
        <source>% of split</source>
        <translation>占该部分的 %</translation>
    </message>
    <message>
        <location line="-253"/>
        <source>Statistics</source>
        <translation>统计</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Chat format of conversations:</source>
        <translation>对话的聊天格式：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Automatic (the model&apos;s chat template)</source>
        <translation>自动（使用模型自带的聊天模板）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ChatML (Qwen)</source>
        <translation>ChatML（Qwen）</translation>
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
        <translation>消息数据集如何转换为文本（data.chat_template）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens per example with the selected model</source>
        <translation>所选模型下每个样本的词元数</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Example</source>
        <translation>样本</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Row of the dataset to show as the model sees it</source>
        <translation>按模型所见的形式显示数据集中的哪一行</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>&lt;span style=&quot;background-color:%1&quot;&gt;&amp;nbsp;loss&amp;nbsp;&lt;/span&gt; tokens the loss is computed on &amp;nbsp; &lt;span style=&quot;background-color:%2&quot;&gt;&amp;nbsp;context&amp;nbsp;&lt;/span&gt; tokens the model only reads</source>
        <translation>&lt;span style=&quot;background-color:%1&quot;&gt;&amp;nbsp;损失&amp;nbsp;&lt;/span&gt; 参与损失计算的词元 &amp;nbsp; &lt;span style=&quot;background-color:%2&quot;&gt;&amp;nbsp;上下文&amp;nbsp;&lt;/span&gt; 模型只读取的词元</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Tokens</source>
        <translation>词元</translation>
    </message>
    <message numerus="yes">
        <location line="+15"/>
        <source>%n row(s)</source>
        <translation>
            <numerusform>%n 行</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>First %n row(s) read (%1% of the file); scroll for more</source>
        <translation>
            <numerusform>已读取前 %n 行（文件的 %1%）；向下滚动以加载更多</numerusform>
        </translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Dataset &apos;%1&apos; added</source>
        <translation>已添加数据集“%1”</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Add dataset</source>
        <translation>添加数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Datasets (*.jsonl *.ndjson *.json *.csv *.tsv *.txt);;All files (*)</source>
        <translation>数据集 (*.jsonl *.ndjson *.json *.csv *.tsv *.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>This file cannot be read as a dataset</source>
        <translation>无法将此文件作为数据集读取</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No dataset yet: add one to start.</source>
        <translation>还没有数据集：请先添加一个。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>The next run trains on &apos;%1&apos;.</source>
        <translation>下一次运行将使用“%1”训练。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The file cannot be previewed: %1</source>
        <translation>无法预览该文件：%1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No statistics: %1</source>
        <translation>无统计信息：%1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 examples (%2 train, %3 validation) · tokens per example: min %4, mean %5, max %6 · %7 longer than the default maximum length</source>
        <translation>%1 个样本（训练 %2，验证 %3）· 每个样本的词元数：最少 %4，平均 %5，最多 %6 · %7 个超过默认最大长度</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No label column</source>
        <translation>没有标签列</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>train</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Statistics from an older version: re-add the dataset for this figure</source>
        <translation>统计信息来自旧版本：重新添加数据集后才能显示此图</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Drift %1 exceeds %2: validation does not look like training</source>
        <translation>漂移 %1 超过 %2：验证集与训练集分布不一致</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Drift %1 (warning above %2)</source>
        <translation>漂移 %1（超过 %2 时警告）</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Counting tokens with the selected model…</source>
        <translation>正在用所选模型统计词元…</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Tokenizer: %1 · tokens per example: min %2, mean %3, max %4 · %5 of %6 examples (%7%) longer than data.max_length = %8 and cut</source>
        <translation>分词器：%1 · 每个样本的词元数：最少 %2，平均 %3，最多 %4 · %6 个样本中有 %5 个（%7%）超过 data.max_length = %8，被截断</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Conversations: %1</source>
        <translation>对话：%1</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>%1% cut at %2 tokens</source>
        <translation>%1% 在 %2 个词元处被截断</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Every example fits in %1 tokens</source>
        <translation>所有样本都在 %1 个词元以内</translation>
    </message>
    <message numerus="yes">
        <location line="+20"/>
        <source>%n token(s), %1 in the loss</source>
        <translation>
            <numerusform>%n 个词元，其中 %1 个参与损失计算</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>cut from %n token(s)</source>
        <translation>
            <numerusform>由 %n 个词元截断而来</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>left out of training: nothing to predict</source>
        <translation>不参与训练：没有可预测的词元</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation example</source>
        <translation>验证样本</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>label: %1</source>
        <translation>标签：%1</translation>
    </message>
</context>
<context>
    <name>DataTokenService</name>
    <message>
        <location filename="../app/datatokenservice.cpp" line="+37"/>
        <source>Cannot count the tokens of this dataset</source>
        <translation>无法统计此数据集的词元</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Cannot show this example</source>
        <translation>无法显示此样本</translation>
    </message>
</context>
<context>
    <name>DatasetRegistrar</name>
    <message>
        <location filename="../app/datasetregistrar.cpp" line="+21"/>
        <source>The dataset was not added</source>
        <translation>数据集未添加</translation>
    </message>
</context>
<context>
    <name>DatasetsModel</name>
    <message>
        <location filename="../app/datasetsmodel.cpp" line="+64"/>
        <source>%1 (conversations)</source>
        <translation>%1（对话）</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rows</source>
        <translation>行数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mapping</source>
        <translation>字段映射</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
</context>
<context>
    <name>ExportPage</name>
    <message>
        <location filename="../views/exportpage.cpp" line="+99"/>
        <source>Run:</source>
        <translation>运行：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>PEFT LoRA adapter</source>
        <translation>PEFT LoRA 适配器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Merged Hugging Face checkpoint</source>
        <translation>合并后的 Hugging Face 检查点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GGUF (llama.cpp / Ollama)</source>
        <translation>GGUF（llama.cpp / Ollama）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>F16 — half precision</source>
        <translation>F16 — 半精度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>BF16 — half precision, F32&apos;s range</source>
        <translation>BF16 — 半精度，F32 的数值范围</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Q8_0 — 8-bit blocks</source>
        <translation>Q8_0 — 8 位分块量化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>F32 — full precision</source>
        <translation>F32 — 全精度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quantisation:</source>
        <translation>量化：</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Folder:</source>
        <translation>文件夹：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Verify after export</source>
        <translation>导出后校验</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Reload the written files and compare their logits with the run&apos;s model on a few prompts.</source>
        <translation>重新加载写出的文件，在几个提示上将其 logits 与该运行的模型比较。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+229"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="-211"/>
        <source>Export check</source>
        <translation>导出校验</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Probe prompts</source>
        <translation>探测提示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Positions</source>
        <translation>位置数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max |Δlogit|</source>
        <translation>最大 |Δlogit|</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Top-1 agreement</source>
        <translation>Top-1 一致率</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Max error</source>
        <translation>最大误差</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Bound</source>
        <translation>上界</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The files written appear here.</source>
        <translation>写入的文件会显示在这里。</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Export cancelled</source>
        <translation>导出已取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The files it was writing were removed.</source>
        <translation>正在写入的文件已被删除。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>%1 written</source>
        <translation>已写入 %1</translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>Exported and verified %n file(s)</source>
        <translation>
            <numerusform>已导出并校验 %n 个文件</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The export check failed</source>
        <translation>导出校验未通过</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The files were kept in %1 for inspection, but they do not compute what the run computes: do not use them.</source>
        <translation>文件已保留在 %1 以供检查，但它们的计算结果与该运行不一致：请勿使用。</translation>
    </message>
    <message>
        <location line="+50"/>
        <source>GGUF holds language models; this run is a classifier.</source>
        <translation>GGUF 只存放语言模型；此运行是分类器。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>adapter_config.json + adapter_model.safetensors: load with PeftModel.from_pretrained on top of the base model. LoRA runs only.</source>
        <translation>adapter_config.json + adapter_model.safetensors：在基础模型之上用 PeftModel.from_pretrained 加载。仅适用于 LoRA 运行。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>config.json + model.safetensors with the adapters merged in: loads with AutoModelForCausalLM.from_pretrained, no PEFT needed.</source>
        <translation>config.json + model.safetensors，已合并适配器：可直接用 AutoModelForCausalLM.from_pretrained 加载，无需 PEFT。</translation>
    </message>
    <message>
        <location line="+187"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location line="-299"/>
        <source>Export to</source>
        <translation>导出到</translation>
    </message>
    <message numerus="yes">
        <location line="+43"/>
        <source>Exported %n file(s)</source>
        <translation>
            <numerusform>已导出 %n 个文件</numerusform>
        </translation>
    </message>
    <message>
        <location line="+73"/>
        <source>One .gguf file with the adapters merged in and the tokenizer inside: runs in llama.cpp, Ollama and LM Studio. Language-model runs only.</source>
        <translation>一个合并了适配器并内含分词器的 .gguf 文件：可在 llama.cpp、Ollama 和 LM Studio 中运行。仅限语言模型运行。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>F16: half the size of F32, differences far below what changes an answer; the usual choice.</source>
        <translation>F16：大小为 F32 的一半，误差远小于会改变回答的程度；通常的选择。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>BF16: half the size of F32 with F32&apos;s range and less precision; for models trained in bf16.</source>
        <translation>BF16：大小为 F32 的一半，保留 F32 的数值范围但精度较低；适合以 bf16 训练的模型。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Q8_0: about a quarter of F32&apos;s size (8 bits per weight and a scale per block of 32); small, measurable differences.</source>
        <translation>Q8_0：约为 F32 大小的四分之一（每个权重 8 位，每 32 个一组共享一个缩放因子）；误差小但可测得。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>F32: full precision, the largest file; the same numbers as the run.</source>
        <translation>F32：全精度，文件最大；数值与该运行完全相同。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>GGUF is not offered: this run is a classifier.</source>
        <translation>不提供 GGUF：此运行是分类器。</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Checking %1…</source>
        <translation>正在校验 %1…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writing %1…</source>
        <translation>正在写入 %1…</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Not verified</source>
        <translation>未校验</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>PASSED</source>
        <translation>通过</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>FAILED</source>
        <translation>未通过</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The export was written without checking it: nothing says it computes what the run computes. Tick “Verify after export” to check it.</source>
        <translation>导出已写入但未经校验：无法确认其计算结果与该运行一致。勾选“导出后校验”即可校验。</translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>The written files were reloaded and run on %n probe prompt(s) against the run&apos;s model.</source>
        <translation>
            <numerusform>写出的文件已重新加载，并在 %n 个探测提示上与该运行的模型对比。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Largest |Δlogit|: %1 (tolerance %2)</source>
        <translation>最大 |Δlogit|：%1（容差 %2）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Largest |Δlogit|: %1 (not judged by it)</source>
        <translation>最大 |Δlogit|：%1（不据此判定）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Top-1 agreement: %1 (at least %2 needed)</source>
        <translation>Top-1 一致率：%1（至少需要 %2）</translation>
    </message>
    <message numerus="yes">
        <location line="+27"/>
        <source>Dequantisation error, worst %1 of %n tensor(s)</source>
        <translation>
            <numerusform>反量化误差：%n 个张量中最差的 %1 个</numerusform>
        </translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Tokenizer: %1</source>
        <translation>分词器：%1</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Choose a folder to export to</source>
        <translation>请选择导出文件夹</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
</context>
<context>
    <name>HeatmapPlot</name>
    <message>
        <location filename="../widgets/heatmapplot.cpp" line="+81"/>
        <source>row %1, column %2: %3</source>
        <translation>第 %1 行，第 %2 列：%3</translation>
    </message>
</context>
<context>
    <name>HfModelScanner</name>
    <message>
        <location filename="../app/hfmodelscanner.cpp" line="+35"/>
        <source>The Hugging Face cache cannot be listed</source>
        <translation>无法列出 Hugging Face 缓存</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>This folder is not a model</source>
        <translation>此文件夹不是模型</translation>
    </message>
</context>
<context>
    <name>HfModelsModel</name>
    <message>
        <location filename="../app/hfmodelsmodel.cpp" line="+102"/>
        <source>Ready</source>
        <translation>可用</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Cannot be used</source>
        <translation>无法使用</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Data type</source>
        <comment>of the weights, e.g. BF16</comment>
        <translation>数据类型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Context</source>
        <comment>tokens the model can attend to</comment>
        <translation>上下文</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Size on disk</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
</context>
<context>
    <name>HyperparametersPage</name>
    <message>
        <location filename="../views/hyperparameterspage.cpp" line="+44"/>
        <location line="+4"/>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Same seed, data and config give the same run (split, init, order)</source>
        <translation>相同的种子、数据和配置会得到相同的运行（划分、初始化、顺序）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>auto uses the GPU when one is present</source>
        <translation>auto 表示有 GPU 时使用 GPU</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Validation share</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share of rows held out to measure generalisation</source>
        <translation>留出用于衡量泛化能力的行的比例</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Maximum length (tokens)</source>
        <translation>最大长度（词元）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Longer examples are truncated</source>
        <translation>更长的样本会被截断</translation>
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
        <translation>优化</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Peak learning rate of AdamW after warm-up</source>
        <translation>预热结束后 AdamW 的峰值学习率</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples per optimizer step</source>
        <translation>每个优化步的样本数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Micro-batch size</source>
        <translation>微批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Examples per forward pass; the batch is accumulated from micro-batches</source>
        <translation>每次前向传播的样本数；一个批次由多个微批次累积而成</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decoupled decay on weight matrices</source>
        <translation>对权重矩阵施加的解耦权重衰减</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient clipping</source>
        <translation>梯度裁剪</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Maximum global gradient norm; 0 turns it off</source>
        <translation>全局梯度范数上限；0 表示不裁剪</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Label smoothing</source>
        <translation>标签平滑</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share of probability spread over other tokens</source>
        <translation>分摊到其他词元上的概率比例</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>bf16 and fp16 need a GPU to pay off</source>
        <translation>bf16 和 fp16 需要 GPU 才有收益</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient checkpointing</source>
        <translation>梯度检查点</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recompute activations in the backward pass instead of keeping them: off; full (each decoder layer from its input: least memory, about a third more compute); selective (only norms, the MLP activation and the attention softmax)</source>
        <translation>在反向传播中重新计算激活值，而不是保留它们：off 关闭；full（每个解码器层从其输入重算：内存最少，计算量约多三分之一）；selective（只重算归一化、MLP 激活函数和注意力 softmax）</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+3"/>
        <location line="+3"/>
        <source>Schedule</source>
        <translation>调度</translation>
    </message>
    <message>
        <location line="-5"/>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optimizer steps in the run</source>
        <translation>本次运行的优化步数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Warm-up steps</source>
        <translation>预热步数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps of linear rise to the peak learning rate</source>
        <translation>学习率线性升至峰值所用的步数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Decay</source>
        <translation>衰减方式</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning-rate shape after warm-up</source>
        <translation>预热之后学习率的变化曲线</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+3"/>
        <location line="+3"/>
        <location line="+6"/>
        <source>Checks and checkpoints</source>
        <translation>评估与检查点</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Evaluate every</source>
        <translation>评估间隔</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps between validation passes; 0 = at the end</source>
        <translation>两次验证之间的步数；0 表示仅在结束时验证</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Checkpoint every</source>
        <translation>检查点间隔</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Steps between checkpoints; 0 = at stop and end</source>
        <translation>两次检查点之间的步数；0 表示仅在停止和结束时保存</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>NaN steps before going back</source>
        <translation>回退前的 NaN 步数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>NaN/inf steps skipped in a row before returning to the last checkpoint; 0 = fail at the first</source>
        <translation>连续跳过多少个 NaN/inf 步后回到上一个检查点；0 = 第一次出现即失败</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Learning rate after going back</source>
        <translation>回退后的学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Factor applied to the learning rate at each return to a checkpoint</source>
        <translation>每次回到检查点时学习率乘以的系数</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+5"/>
        <location line="+5"/>
        <source>Attention probes</source>
        <translation>注意力探针</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>Probe texts (one per line)</source>
        <translation>探针文本（每行一条）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Texts whose attention maps are captured while the run trains</source>
        <translation>训练过程中记录其注意力图的文本</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Dataset rows (comma-separated)</source>
        <translation>数据集行（逗号分隔）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dataset rows (numbers from 0) whose attention maps are captured; with no text and no row, the first row</source>
        <translation>记录其注意力图的数据集行（从 0 开始的编号）；既无文本也无行时，使用第一行</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Capture every</source>
        <translation>记录间隔</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Optimizer steps between attention captures (also at the first and last step); 0 = none</source>
        <translation>两次注意力记录之间的优化步数（首步和末步也会记录）；0 = 不记录</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>auto</source>
        <comment>micro-batch: chosen by the memory forecast</comment>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Preset:</source>
        <translation>预设：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save as preset…</source>
        <translation>另存为预设…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reset to defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Allowed</source>
        <translation>允许范围</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recommended</source>
        <translation>推荐范围</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>none, or e.g. 0, 17, 42</source>
        <translation>无，或例如 0, 17, 42</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a number or auto</source>
        <translation>数字或 auto</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>
auto: the largest micro-batch that the memory forecast fits on the device</source>
        <translation>
auto：内存预测能在设备上容纳的最大微批</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>%1 or auto</source>
        <translation>%1 或 auto</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Save preset</source>
        <translation>保存预设</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Preset name:</source>
        <translation>预设名称：</translation>
    </message>
    <message>
        <location line="+76"/>
        <source>the config is not valid</source>
        <translation>配置无效</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>outside the allowed range</source>
        <translation>超出允许范围</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>outside the recommended range</source>
        <translation>超出推荐范围</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>This config cannot start a run</source>
        <translation>此配置无法启动运行</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Some values are outside the recommended ranges</source>
        <translation>部分取值超出推荐范围</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Preset &apos;%1&apos; saved in the project</source>
        <translation>预设“%1”已保存到项目中</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The preset cannot be read</source>
        <translation>无法读取该预设</translation>
    </message>
</context>
<context>
    <name>LivePlot</name>
    <message>
        <location filename="../widgets/liveplot.cpp" line="+57"/>
        <source>Follow latest</source>
        <comment>plot: keep the newest points in view</comment>
        <translation>跟随最新</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Keep the newest points in view. Dragging or zooming the plot turns this off; a double-click on the plot turns it back on.</source>
        <translation>始终显示最新的数据点。拖动或缩放图表会关闭此选项；双击图表可重新开启。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../views/mainwindow.cpp" line="+44"/>
        <source>DeepTune projects (*.dtproj)</source>
        <translation>DeepTune 项目 (*.dtproj)</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model &amp; LoRA</source>
        <translation>模型与 LoRA</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hyperparameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs</source>
        <translation>运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Playground</source>
        <translation>试验场</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Memory</source>
        <translation>显存</translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Training: %1</source>
        <translation>训练：%1</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+4"/>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>DeepTune Workbench %1</source>
        <translation>DeepTune 工作台 %1</translation>
    </message>
    <message>
        <location line="+36"/>
        <location line="+112"/>
        <source>DeepTune Workbench</source>
        <translation>DeepTune 工作台</translation>
    </message>
    <message>
        <location line="-105"/>
        <source>Fine-tune transformer models with LoRA and watch what happens inside. A project is one file that holds your datasets, runs and their curves.</source>
        <translation>用 LoRA 微调 Transformer 模型，并实时观察模型内部的变化。一个项目就是一个文件，保存你的数据集、运行及其曲线。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>New sample project…</source>
        <translation>新建示例项目…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New empty project…</source>
        <translation>新建空项目…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open project…</source>
        <translation>打开项目…</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>&amp;Project</source>
        <translation>项目(&amp;P)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New Project…</source>
        <translation>新建项目(&amp;N)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New &amp;Sample Project…</source>
        <translation>新建示例项目(&amp;S)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Close Project</source>
        <translation>关闭项目(&amp;C)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Add Dataset…</source>
        <translation>添加数据集(&amp;A)…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>System language</source>
        <translation>系统语言</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>The language changes the next time the workbench starts.</source>
        <translation>语言将在下次启动工作台时生效。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About DeepTune Workbench</source>
        <translation>关于 DeepTune 工作台(&amp;A)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>About DeepTune Workbench</source>
        <translation>关于 DeepTune 工作台</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>DeepTune Workbench %1
LoRA fine-tuning with every step recorded in a project file.
LibTorch %2</source>
        <translation>DeepTune 工作台 %1
LoRA 微调，每一步都记录在项目文件中。
LibTorch %2</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>%1 — DeepTune Workbench</source>
        <translation>%1 — DeepTune 工作台</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+36"/>
        <source>A run is in progress</source>
        <translation>有一个运行正在进行</translation>
    </message>
    <message>
        <location line="-35"/>
        <source>Stop it before opening another project.</source>
        <translation>请先停止它，再打开其他项目。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Stop it before closing the project.</source>
        <translation>请先停止它，再关闭项目。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>New sample project</source>
        <translation>新建示例项目</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>New project</source>
        <translation>新建项目</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>MemoryForecastLabel</name>
    <message>
        <location filename="../views/memoryforecastlabel.cpp" line="+17"/>
        <source>weights (frozen)</source>
        <translation>权重（冻结）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adapters (trainable)</source>
        <translation>适配器（可训练）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>gradients</source>
        <translation>梯度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>optimizer state</source>
        <translation>优化器状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>activations &amp; temporaries</source>
        <translation>激活值与临时张量</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>allocator cache</source>
        <translation>分配器缓存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>outside LibTorch</source>
        <translation>LibTorch 之外</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>fits</source>
        <comment>memory forecast</comment>
        <translation>放得下</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>tight</source>
        <comment>memory forecast: fits with less than a tenth spare</comment>
        <translation>偏紧</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>will not fit</source>
        <comment>memory forecast</comment>
        <translation>放不下</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: %1 of %2 free on %3 — %4</source>
        <translation>内存：%1，%3 上可用 %2 — %4</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Memory: %1 on %2</source>
        <translation>内存：%1（%2）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; auto picks micro-batch %1</source>
        <translation>；auto 将选择微批 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>; auto finds no micro-batch that fits and would use 1</source>
        <translation>；auto 找不到放得下的微批，将使用 1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; largest micro-batch that fits: %1</source>
        <translation>；放得下的最大微批：%1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>; not even a micro-batch of 1 fits</source>
        <translation>；连大小为 1 的微批也放不下</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>; gradient checkpointing (%1) saves %2</source>
        <translation>；梯度检查点（%1）节省 %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>; full gradient checkpointing would need %1 (%2)</source>
        <translation>；完整梯度检查点需要 %1（%2）</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>• a smaller micro-batch: %1 fits (the batch stays; more steps are accumulated)</source>
        <translation>• 更小的微批：%1 放得下（批大小不变，累积更多步）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>• a smaller micro-batch (the batch stays; more steps are accumulated)</source>
        <translation>• 更小的微批（批大小不变，累积更多步）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>• a shorter maximum length (now %1 tokens): activations grow with it</source>
        <translation>• 更短的最大长度（当前 %1 个词元）：激活值随之增长</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• bf16 precision on a GPU: half the bytes per weight and activation</source>
        <translation>• 在 GPU 上使用 bf16 精度：每个权重和激活值的字节数减半</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• LoRA instead of full fine-tuning, or fewer LoRA targets: fewer gradients and less optimizer state</source>
        <translation>• 用 LoRA 代替全量微调，或减少 LoRA 目标模块：梯度和优化器状态更少</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>• full gradient checkpointing: %1 at the peak instead of %2 (about a third more compute)</source>
        <translation>• 完整梯度检查点：峰值 %1，而不是 %2（计算量约多三分之一）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>• full gradient checkpointing instead of selective: each layer recomputed from its input</source>
        <translation>• 用完整梯度检查点代替选择性检查点：每层从其输入重算</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>At the step&apos;s peak, micro-batch %1 × %2 tokens:</source>
        <translation>训练步峰值时，微批 %1 × %2 个词元：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Whole process on the device: %1</source>
        <translation>整个进程在设备上占用：%1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Free now: %1 of %2</source>
        <translation>当前可用：%1 / 共 %2</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>With gradient checkpointing %1: %2 on the device</source>
        <translation>梯度检查点为 %1 时：设备上 %2</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: computing…</source>
        <translation>内存：计算中…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Memory: no forecast (%1)</source>
        <translation>内存：无预测（%1）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This run will not fit in memory</source>
        <translation>此运行在内存中放不下</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The forecast says this run&apos;s training step will not fit on %1.</source>
        <translation>预测显示此运行的训练步在 %1 上放不下。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>It needs %1 at its peak; %2 is free now. Training would likely stop at the first step with an out-of-memory error (on a GPU the micro-batch is halved until it fits, which is slower).

To make it fit, try:
%3</source>
        <translation>峰值需要 %1；当前可用 %2。训练很可能在第一步因内存不足而停止（在 GPU 上微批会减半直到放得下，速度更慢）。

要让它放得下，可以尝试：
%3</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Start anyway</source>
        <translation>仍然开始</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Resume anyway</source>
        <translation>仍然继续</translation>
    </message>
</context>
<context>
    <name>MemoryForecaster</name>
    <message>
        <location filename="../app/memoryforecaster.cpp" line="+66"/>
        <source>Cannot forecast the memory of this config</source>
        <translation>无法预测此配置的内存</translation>
    </message>
</context>
<context>
    <name>MemoryPage</name>
    <message>
        <location filename="../views/memorypage.cpp" line="+69"/>
        <source>weights (frozen)</source>
        <translation>权重（冻结）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters that do not train: the base model under the adapters.</source>
        <translation>不参与训练的参数：适配器下面的基础模型。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>adapters (trainable)</source>
        <translation>适配器（可训练）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parameters that train: LoRA adapters and a classification head (every weight in full fine-tuning).</source>
        <translation>参与训练的参数：LoRA 适配器和分类头（全量微调时为全部权重）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>gradients</source>
        <translation>梯度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradients of the trainable weights, alive from the backward pass to the update.</source>
        <translation>可训练权重的梯度，从反向传播存活到参数更新。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>optimizer state</source>
        <translation>优化器状态</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>AdamW&apos;s two moments per trainable weight.</source>
        <translation>AdamW 为每个可训练权重保存的两个矩。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+13"/>
        <source>activations &amp; temporaries</source>
        <translation>激活值与临时张量</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>At the step&apos;s allocator peak, what the categories below do not explain: activations kept for the backward pass and temporaries.</source>
        <translation>在该步分配器峰值时，下面各类别无法解释的部分：为反向传播保留的激活值和临时张量。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>allocator cache</source>
        <translation>分配器缓存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reserved minus the step&apos;s peak allocated (never below 0): memory LibTorch&apos;s caching allocator holds from the device but no tensor used even at the step&apos;s peak.</source>
        <translation>已保留减去该步峰值已分配（不低于 0）：LibTorch 缓存分配器从设备占用、但即使在该步峰值时也没有张量使用的显存。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>outside LibTorch</source>
        <translation>LibTorch 之外</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Used on the device minus reserved: the CUDA context, libraries&apos; workspaces and other processes on the same device.</source>
        <translation>设备已用减去已保留：CUDA 上下文、各库的工作空间以及同一设备上的其他进程。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>At the step&apos;s peak of the tensors the trainer counts, what the categories below do not explain: activations kept for the backward pass and temporaries.</source>
        <translation>在训练器统计的张量于该步达到峰值时，下方各类别无法解释的部分：为反向传播保留的激活值和临时张量。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+5"/>
        <source>other (process)</source>
        <translation>其他（进程）</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>The process&apos;s resident size minus the step&apos;s peak of counted tensors: libraries, the program, the UI, and memory freed but not yet returned to the system.</source>
        <translation>进程常驻内存减去该步已统计张量的峰值：库、程序本身、界面，以及已释放但尚未归还系统的内存。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The process&apos;s resident size minus the tensors counted above: activations, temporaries, libraries, the program and the UI.</source>
        <translation>进程常驻内存减去上面统计的张量：激活值、临时张量、库、程序本身和界面。</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Run:</source>
        <translation>运行：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Compare with:</source>
        <translation>对比：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Draws the per-step peak of another run over this one.</source>
        <translation>在本运行之上绘制另一个运行的逐步峰值。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Trainer&apos;s tensors only</source>
        <translation>仅训练器张量</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Leaves out what the process or the device holds beyond the categories the trainer counts, so that small categories become visible.</source>
        <translation>略去进程或设备在训练器统计的类别之外占用的内存，使较小的类别清晰可见。</translation>
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
        <translation>内存不足：微批降为 %1</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>forecast peak (full recomputation)</source>
        <translation>预测峰值（完整重算）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>forecast peak (selective recomputation)</source>
        <translation>预测峰值（选择性重算）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>forecast peak</source>
        <translation>预测峰值</translation>
    </message>
    <message>
        <location line="+106"/>
        <source>peak allocated (per step)</source>
        <translation>峰值已分配（逐步）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>resident (per step)</source>
        <translation>常驻内存（逐步）</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+32"/>
        <source>compared run</source>
        <translation>对比的运行</translation>
    </message>
    <message>
        <location line="-27"/>
        <source>allocated (end of step)</source>
        <translation>已分配（步末）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>reserved</source>
        <translation>已保留</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>device memory (CUDA)</source>
        <translation>设备显存（CUDA）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>host memory (process)</source>
        <translation>主机内存（进程）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Device memory as LibTorch&apos;s caching allocator and the CUDA driver report it, every step. Hover the timeline for a step&apos;s numbers, the legend entries below for what each category counts.</source>
        <translation>每一步由 LibTorch 缓存分配器和 CUDA 驱动报告的设备显存。将鼠标悬停在时间线上可查看某一步的数值，悬停在下方图例上可查看每个类别统计的内容。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Host memory: this run trained on the CPU. The trainer counts its tensors&apos; bytes itself, so each step&apos;s peak is measured and the activations and temporaries at that peak have a number, comparable with the forecast; the rest of the process&apos;s resident size is shown above them. The allocator&apos;s cache is shown for CUDA runs only.</source>
        <translation>主机内存：此运行在 CPU 上训练。训练器自行统计张量的字节数，因此每一步的峰值都是实测的，峰值时的激活值与临时张量也有具体数字，可与预测对比；进程常驻内存的其余部分显示在它们上方。分配器缓存仅对 CUDA 运行显示。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Host memory: this run was recorded before the trainer counted the step&apos;s peak on the CPU. The timeline shows the process&apos;s resident size and the part of it the trainer&apos;s tensors account for; activations are inside the rest of the process.</source>
        <translation>主机内存：此运行记录于训练器在 CPU 上统计每步峰值之前。时间线显示进程的常驻内存及其中训练器张量所占的部分；激活值包含在进程的其余部分中。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>peak of &apos;%1&apos; (full recomputation)</source>
        <translation>“%1”的峰值（完整重算）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>peak of &apos;%1&apos; (selective recomputation)</source>
        <translation>“%1”的峰值（选择性重算）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>peak of &apos;%1&apos;</source>
        <translation>“%1”的峰值</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>%1 in use of the device&apos;s %2</source>
        <translation>已用 %1，设备共 %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 in use on the device</source>
        <translation>设备上已用 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Step %1: %2 (reserved %3, peak allocated %4)</source>
        <translation>第 %1 步：%2（已保留 %3，峰值已分配 %4）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Step %1: %2 resident in host memory (peak of counted tensors %3)</source>
        <translation>第 %1 步：主机内存常驻 %2（已统计张量峰值 %3）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Step %1: %2 resident in host memory</source>
        <translation>第 %1 步：主机内存常驻 %2</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Open a project to see the memory its runs use.</source>
        <translation>打开项目以查看其运行使用的内存。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This project has no runs yet. Start one on the Train page: its memory appears here step by step.</source>
        <translation>此项目还没有运行。请在“训练”页开始一次运行：其内存会在这里逐步显示。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose a run above.</source>
        <translation>请在上方选择一个运行。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Waiting for the first step of run &apos;%1&apos;…</source>
        <translation>正在等待运行“%1”的第一步…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reading the memory samples of run &apos;%1&apos;…</source>
        <translation>正在读取运行“%1”的内存采样…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Run &apos;%1&apos; has no memory samples: it was trained before DeepTune recorded memory, or stopped before its first step. Runs trained from now on record it every step.</source>
        <translation>运行“%1”没有内存采样：它是在 DeepTune 记录内存之前训练的，或在第一步之前就停止了。今后训练的运行每一步都会记录内存。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>none</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>MemoryTimeline</name>
    <message>
        <location filename="../widgets/memorytimeline.cpp" line="+52"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location line="+296"/>
        <source>peak %1 at step %2</source>
        <comment>memory timeline: the highest step</comment>
        <translation>峰值 %1（第 %2 步）</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>&lt;b&gt;step %1&lt;/b&gt;: %2</source>
        <translation>&lt;b&gt;第 %1 步&lt;/b&gt;：%2</translation>
    </message>
</context>
<context>
    <name>MessageBanner</name>
    <message>
        <location filename="../views/messagebanner.cpp" line="+30"/>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ModelPage</name>
    <message>
        <location filename="../views/modelpage.cpp" line="+53"/>
        <source>Base model</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Open model folder…</source>
        <translation>打开模型文件夹…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A Hugging Face model folder: config.json with its *.safetensors weights</source>
        <translation>Hugging Face 模型文件夹：包含 config.json 及其 *.safetensors 权重</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start from:</source>
        <translation>起点：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Causal language model (continue text)</source>
        <translation>因果语言模型（续写文本）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Classification (text → label)</source>
        <translation>分类（文本 → 标签）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Task:</source>
        <translation>任务：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>LoRA adapters (base frozen)</source>
        <translation>LoRA 适配器（冻结基础模型）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Full fine-tune (every weight trains)</source>
        <translation>全量微调（训练所有权重）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training:</source>
        <translation>训练方式：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Standard</source>
        <translation>标准</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>With temperature</source>
        <translation>带温度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention:</source>
        <translation>注意力：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Temperature:</source>
        <translation>温度：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Hugging Face models on this computer</source>
        <translation>本机上的 Hugging Face 模型</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Look again</source>
        <translation>重新查找</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>List the Hugging Face cache again, e.g. after a download</source>
        <translation>重新列出 Hugging Face 缓存（例如下载完成后）</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Rank r:</source>
        <translation>秩 r：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Alpha:</source>
        <translation>Alpha：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Dropout:</source>
        <translation>Dropout：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rank-stabilised scaling (alpha / √r)</source>
        <translation>秩稳定缩放（alpha / √r）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Target modules:</source>
        <translation>目标模块：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trainable:</source>
        <translation>可训练：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Share trained:</source>
        <translation>训练占比：</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Open model folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Looking in %1…</source>
        <translation>正在查找 %1…</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>No models in %1. Models downloaded with the Hugging Face tools (huggingface-cli download, transformers) appear here.</source>
        <translation>%1 中没有模型。用 Hugging Face 工具（huggingface-cli download、transformers）下载的模型会显示在这里。</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n model(s) in %1; choose one to start from it.</source>
        <translation>
            <numerusform>%1 中有 %n 个模型；选择一个作为起点。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+22"/>
        <source>%1 cannot be used as a base model</source>
        <translation>%1 无法用作基础模型</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Hugging Face: %1</source>
        <translation>Hugging Face：%1</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Preset: %1</source>
        <translation>预设：%1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Run: %1 (its latest weights)</source>
        <translation>运行：%1（其最新权重）</translation>
    </message>
    <message>
        <location line="+60"/>
        <source>computing…</source>
        <translation>计算中…</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1 parameters</source>
        <translation>%1 个参数</translation>
    </message>
    <message numerus="yes">
        <location line="+5"/>
        <source>%n module(s) adapted</source>
        <translation>
            <numerusform>已适配 %n 个模块</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ModelSummarizer</name>
    <message>
        <location filename="../app/modelsummarizer.cpp" line="+66"/>
        <source>Cannot build this model</source>
        <translation>无法构建此模型</translation>
    </message>
</context>
<context>
    <name>PlaygroundPage</name>
    <message>
        <location filename="../views/playgroundpage.cpp" line="+72"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Open model folder…</source>
        <translation>打开模型文件夹…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Type a prompt…</source>
        <translation>输入提示词…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>0 picks the most likely token every time (greedy).</source>
        <translation>0 表示每次都选概率最高的词元（贪心解码）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Temperature:</source>
        <translation>温度：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Sample from the smallest set of tokens whose probabilities add up to this; 1: no limit.</source>
        <translation>从概率之和达到该值的最小词元集合中采样；1 表示不限制。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-p:</source>
        <translation>Top-p：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Sample from this many most likely tokens; 0: no limit.</source>
        <translation>从概率最高的这么多个词元中采样；0 表示不限制。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Top-k:</source>
        <translation>Top-k：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Above 1 makes tokens already in the text less likely; 1: none.</source>
        <translation>大于 1 时降低文本中已出现词元的概率；1 表示不惩罚。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repetition penalty:</source>
        <translation>重复惩罚：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Max new tokens:</source>
        <translation>最多生成词元数：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The same seed gives the same text when sampling.</source>
        <translation>采样时，相同的种子生成相同的文本。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Seed:</source>
        <translation>种子：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>comma or newline separated</source>
        <translation>用逗号或换行分隔</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Generation ends before any of these strings. Separate them with commas or newlines; \n stands for a newline, \, for a comma, a backslash before a space keeps it.</source>
        <translation>生成在遇到其中任一字符串之前结束。用逗号或换行分隔；\n 表示换行，\, 表示逗号，空格前加反斜杠可保留该空格。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stop strings:</source>
        <translation>停止字符串：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Chat (the model&apos;s chat template)</source>
        <translation>对话（使用模型的对话模板）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Side by side: base and tuned</source>
        <translation>并排对比：基础模型与微调后模型</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Base model</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+211"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location line="-204"/>
        <source>Open model folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <location line="+91"/>
        <source>%1 (run, step %2)</source>
        <translation>%1（运行，第 %2 步）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 (folder)</source>
        <translation>%1（文件夹）</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>%1 · context %2 tokens</source>
        <translation>%1 · 上下文 %2 个词元</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This model has no chat template we know.</source>
        <translation>此模型没有可识别的对话模板。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The same prompt through the base model (adapter off) and through the tuned run (adapter on).</source>
        <translation>同一提示词分别经过基础模型（关闭适配器）和微调后的运行（启用适配器）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Only a run has a base model to compare with.</source>
        <translation>只有运行才有可对比的基础模型。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Choose a model first</source>
        <translation>请先选择模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train a causal language model run, or open a model folder.</source>
        <translation>请训练一个因果语言模型运行，或打开一个模型文件夹。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tuned run</source>
        <translation>微调后的运行</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Generating…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%n token(s) · %1 tokens/s · %2</source>
        <translation>
            <numerusform>%n 个词元 · %1 词元/秒 · %2</numerusform>
        </translation>
    </message>
    <message>
        <location line="+50"/>
        <source>ended by the model</source>
        <translation>模型自行结束</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stop string reached</source>
        <translation>遇到停止字符串</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>max new tokens reached</source>
        <translation>达到最多生成词元数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>context full</source>
        <translation>上下文已满</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>PlaygroundService</name>
    <message>
        <location filename="../app/playgroundservice.cpp" line="+144"/>
        <location line="+17"/>
        <source>The model could not be loaded</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The generation failed</source>
        <translation>生成失败</translation>
    </message>
</context>
<context>
    <name>ProjectSession</name>
    <message>
        <location filename="../app/projectsession.cpp" line="+40"/>
        <source>Could not open the project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <location line="+7"/>
        <location line="+12"/>
        <source>Could not create the project</source>
        <translation>无法创建项目</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>%1: a file with this name already exists</source>
        <translation>%1：已存在同名文件</translation>
    </message>
    <message>
        <location line="+61"/>
        <location line="+4"/>
        <source>The preset was not saved</source>
        <translation>预设未保存</translation>
    </message>
    <message>
        <location line="-4"/>
        <location line="+11"/>
        <source>No project is open.</source>
        <translation>没有打开的项目。</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+4"/>
        <source>The run was not renamed</source>
        <translation>运行未重命名</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <location filename="../views/filedialogs.cpp" line="+23"/>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
</context>
<context>
    <name>RunExporter</name>
    <message>
        <location filename="../app/runexporter.cpp" line="+135"/>
        <source>The export failed</source>
        <translation>导出失败</translation>
    </message>
</context>
<context>
    <name>RunHistoryReader</name>
    <message>
        <location filename="../app/runhistoryreader.cpp" line="+28"/>
        <source>The run&apos;s records cannot be read</source>
        <translation>无法读取该运行的记录</translation>
    </message>
</context>
<context>
    <name>RunRemover</name>
    <message>
        <location filename="../app/runremover.cpp" line="+21"/>
        <source>The run&apos;s dependents cannot be read</source>
        <translation>无法读取以该运行为起点的运行</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>The run was not deleted</source>
        <translation>运行未删除</translation>
    </message>
</context>
<context>
    <name>RunsModel</name>
    <message>
        <location filename="../app/runsmodel.cpp" line="+73"/>
        <source>created</source>
        <translation>已创建</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>preparing</source>
        <translation>准备中</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Step</source>
        <translation>步数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Base model</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>LoRA r</source>
        <translation>LoRA 秩</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Train loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Val loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
</context>
<context>
    <name>RunsPage</name>
    <message>
        <location filename="../views/runspage.cpp" line="+52"/>
        <source>Show in Train</source>
        <translation>在训练页显示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Duplicate as new config</source>
        <translation>复制为新配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Compare:</source>
        <translation>比较：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Validation loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient norm</source>
        <translation>梯度范数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location line="+201"/>
        <source>Run &apos;%1&apos; failed</source>
        <translation>运行“%1”失败</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>• &apos;%1&apos; has not started yet and cannot start without it.</source>
        <translation>• “%1”尚未开始，删除后将无法开始。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>• &apos;%1&apos; started from its weights and keeps its own copy.</source>
        <translation>• “%1”从它的权重开始，已保留自己的副本。</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n run(s) start from this run&apos;s weights:</source>
        <translation>
            <numerusform>%n 个运行以此运行的权重为起点：</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Delete run</source>
        <translation>删除运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete run &apos;%1&apos; with its metrics, logs and checkpoints?</source>
        <translation>删除运行“%1”及其指标、日志和检查点？</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>The run was not resumed</source>
        <translation>运行未继续</translation>
    </message>
    <message>
        <location line="-63"/>
        <source>Exports written elsewhere are kept. This cannot be undone.</source>
        <translation>保存在其他位置的导出文件会保留。此操作无法撤销。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location line="-126"/>
        <location line="+147"/>
        <source>The run&apos;s config cannot be read</source>
        <translation>无法读取该运行的配置</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The config of &apos;%1&apos; is now the draft</source>
        <translation>“%1”的配置已成为当前草稿</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change it in Model &amp; LoRA or Hyperparameters, then start it in Train.</source>
        <translation>可在“模型与 LoRA”或“超参数”中修改，然后在“训练”中启动。</translation>
    </message>
</context>
<context>
    <name>TrainPage</name>
    <message>
        <location filename="../views/trainpage.cpp" line="+55"/>
        <source>Run name:</source>
        <translation>运行名称：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>step %v of %m</source>
        <translation>第 %v 步，共 %m 步</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Steps whose loss or gradient was not a number were skipped without an update; after several in a row the run went back to its last checkpoint with a lower learning rate.</source>
        <translation>损失或梯度不是数值的步已跳过且未更新参数；连续多次后，运行会回到上一个检查点并降低学习率。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+5"/>
        <location line="+4"/>
        <location line="+4"/>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <location line="-13"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>training</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+1"/>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Gradient norm</source>
        <translation>梯度范数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>norm before clipping</source>
        <translation>裁剪前的范数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>gradient norm</source>
        <translation>梯度范数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Throughput</source>
        <translation>吞吐量</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+1"/>
        <source>tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>The run&apos;s log appears here.</source>
        <translation>运行日志会显示在这里。</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>The run could not start</source>
        <translation>运行无法启动</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>The run config is not valid</source>
        <translation>运行配置无效</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No dataset chosen</source>
        <translation>未选择数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick the dataset to train on in the Data page.</source>
        <translation>请在“数据”页面选择用于训练的数据集。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>checking memory…</source>
        <translation>正在检查内存…</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>The run was not started</source>
        <translation>运行未启动</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>went back to the checkpoint at step %1 after steps that were not a number; the curves from there are drawn again</source>
        <translation>出现非数值的步后回到第 %1 步的检查点；从那里开始的曲线将重新绘制</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>NaN/inf steps skipped: %1</source>
        <translation>跳过的 NaN/inf 步：%1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>learning rate ×%1 after going back</source>
        <translation>回退后学习率 ×%1</translation>
    </message>
    <message>
        <location line="+35"/>
        <location line="+206"/>
        <source>The run failed</source>
        <translation>运行失败</translation>
    </message>
    <message>
        <location line="-198"/>
        <source>Following run &apos;%1&apos;, trained by another process</source>
        <translation>正在跟随由另一个进程训练的运行“%1”</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Its curves update as it records them (host %1, pid %2).</source>
        <translation>曲线会随其记录实时更新（主机 %1，进程号 %2）。</translation>
    </message>
    <message>
        <location line="+93"/>
        <source>Run &apos;%1&apos; ended: %2</source>
        <translation>运行“%1”已结束：%2</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>validation at step %1: loss %2</source>
        <translation>第 %1 步验证：损失 %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, accuracy %1</source>
        <translation>，准确率 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, perplexity %1</source>
        <translation>，困惑度 %1</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Run &apos;%1&apos; completed</source>
        <translation>运行“%1”已完成</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Run &apos;%1&apos; stopped</source>
        <translation>运行“%1”已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>It can be resumed from its last checkpoint in the Runs page.</source>
        <translation>可在“运行”页面从最近的检查点继续。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>ETA %1</source>
        <translation>预计剩余 %1</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../workbench/main.cpp" line="+27"/>
        <source>DeepTune Workbench: LoRA fine-tuning you can watch.</source>
        <translation>DeepTune 工作台：看得见的 LoRA 微调。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Project file to open</source>
        <translation>要打开的项目文件</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Save a PNG of the window and quit</source>
        <translation>将窗口保存为 PNG 后退出</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Page to show first</source>
        <translation>启动时显示的页面</translation>
    </message>
</context>
</TS>
