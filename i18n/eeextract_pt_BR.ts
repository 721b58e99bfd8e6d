<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pt_BR" sourcelanguage="en">
<context>
    <name>EEExtract</name>
    <message>
        <location filename="../eeextract_plugin/plugin.py"/>
        <source>Show the EE Extract panel: extract Earth Engine data</source>
        <translation>Mostrar o painel do EE Extract: extrair dados do Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/plugin.py"/>
        <source>EE Extract settings…</source>
        <translation>Configurações do EE Extract…</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/plugin.py"/>
        <source>%n unfinished job(s) can be resumed: {names}</source>
        <translation>
            <numerusform>%n trabalho não concluído pode ser retomado: {names}</numerusform>
            <numerusform>%n trabalhos não concluídos podem ser retomados: {names}</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/plugin.py"/>
        <source>Show jobs</source>
        <translation>Mostrar trabalhos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>This page is not part of an EE Extract sign-in.</source>
        <translation>Esta página não faz parte de um login do EE Extract.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Signed in to Google for Earth Engine. You can close this tab and return to QGIS.</source>
        <translation>Login no Google para o Earth Engine feito. Você pode fechar esta aba e voltar ao QGIS.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Sign-in was not completed ({error}). You can close this tab and return to QGIS.</source>
        <translation>O login não foi concluído ({error}). Você pode fechar esta aba e voltar ao QGIS.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>sign-in was not started</source>
        <translation>o login não foi iniciado</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google sign-in was refused (consent not given)</source>
        <translation>o login no Google foi recusado (consentimento não dado)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google sign-in failed: {error}</source>
        <translation>o login no Google falhou: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google sign-in cancelled</source>
        <translation>login no Google cancelado</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google sign-in timed out after {seconds} s (the browser never came back)</source>
        <translation>o login no Google expirou após {seconds} s (o navegador não retornou)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google refused the sign-in code ({error})</source>
        <translation>o Google recusou o código de login ({error})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>cannot reach Google&apos;s token endpoint ({error})</source>
        <translation>não foi possível acessar o endpoint de tokens do Google ({error})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Google&apos;s answer holds no refresh token</source>
        <translation>a resposta do Google não contém um refresh token</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>not signed in (no Earth Engine credentials on this computer)</source>
        <translation>sem login (nenhuma credencial do Earth Engine neste computador)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Cloud project: required to use Earth Engine (Settings → Project)</source>
        <translation>Projeto Cloud: obrigatório para usar o Earth Engine (Configurações → Projeto)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>the stored Google sign-in is no longer valid: sign in again</source>
        <translation>o login do Google guardado não é mais válido: entre novamente</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>cannot reach Earth Engine at {url} ({error})</source>
        <translation>não foi possível acessar o Earth Engine em {url} ({error})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Cloud project {project} can use Earth Engine.</source>
        <translation>O projeto Cloud {project} pode usar o Earth Engine.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Cloud project {project}: not usable with Earth Engine ({reason})</source>
        <translation>Projeto Cloud {project}: não pode ser usado com o Earth Engine ({reason})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Cloud project {project}: not found ({reason})</source>
        <translation>Projeto Cloud {project}: não encontrado ({reason})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>no such project</source>
        <translation>projeto inexistente</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Cloud project {project}: Earth Engine answered HTTP {status} ({reason})</source>
        <translation>Projeto Cloud {project}: o Earth Engine respondeu HTTP {status} ({reason})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Signed in (credentials in {path}).</source>
        <translation>Login feito (credenciais em {path}).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/google_oauth.py"/>
        <source>Not signed in.</source>
        <translation>Sem login.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Sign in with Google</source>
        <translation>Entrar com o Google</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Opens Google&apos;s consent page in your browser; the credentials are stored where &apos;earthengine authenticate&apos; stores them.</source>
        <translation>Abre a página de consentimento do Google no navegador; as credenciais são guardadas onde o 'earthengine authenticate' as guarda.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Check project</source>
        <translation>Verificar projeto</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Sign out</source>
        <translation>Sair</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Sign in again</source>
        <translation>Entrar novamente</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Cannot wait for Google&apos;s answer on this computer ({error}).</source>
        <translation>Não é possível aguardar a resposta do Google neste computador ({error}).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Signed in. Enter the Cloud project to use, then Check project.</source>
        <translation>Login feito. Informe o projeto Cloud a usar e clique em Verificar projeto.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Signed in. {project_check}</source>
        <translation>Login feito. {project_check}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Signed in, but {error}</source>
        <translation>Login feito, mas {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>EE Extract: sign in to Google</source>
        <translation>EE Extract: login no Google</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Waiting for your answer in the browser … (Cancel stops waiting)</source>
        <translation>Aguardando sua resposta no navegador … (Cancelar interrompe a espera)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Open this page in your browser to sign in: {url}</source>
        <translation>Abra esta página no navegador para entrar: {url}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>EE Extract: check the Cloud project</source>
        <translation>EE Extract: verificar o projeto Cloud</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Checking the project …</source>
        <translation>Verificando o projeto …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Signed out: the Earth Engine credentials were removed from this computer.</source>
        <translation>Sessão encerrada: as credenciais do Earth Engine foram removidas deste computador.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>EE Extract: sign out of Google</source>
        <translation>EE Extract: sair do Google</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Signing out …</source>
        <translation>Saindo …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/auth/widget.py"/>
        <source>Sign-in cancelled.</source>
        <translation>Login cancelado.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>native</source>
        <translation>nativa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Image</source>
        <translation>Imagem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Image collection</source>
        <translation>Coleção de imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>&lt;b&gt;{kind}&lt;/b&gt; — {title}</source>
        <translation>&lt;b&gt;{kind}&lt;/b&gt; — {title}</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>%n band(s): {names}</source>
        <translation>
            <numerusform>%n banda: {names}</numerusform>
            <numerusform>%n bandas: {names}</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>first image&apos;s grid: {crs}, {scale} units/pixel</source>
        <translation>grade da primeira imagem: {crs}, {scale} unidades/pixel</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>native grid: {crs}, {scale} units/pixel</source>
        <translation>grade nativa: {crs}, {scale} unidades/pixel</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>dates: {start} to {end}</source>
        <translation>datas: {start} a {end}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{duration} at best, if Earth Engine answers at full speed (heavy computations take longer)</source>
        <translation>{duration} no melhor caso, se o Earth Engine responder à velocidade máxima (cálculos pesados levam mais tempo)</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln arquivo</numerusform>
            <numerusform>%Ln arquivos</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{pixels} px, {size}</source>
        <translation>{pixels} px, {size}</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>%Ln export task(s)</source>
        <translation>
            <numerusform>%Ln tarefa de exportação</numerusform>
            <numerusform>%Ln tarefas de exportação</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{work}, {tasks}, {files}, ≈ {duration} by batch export</source>
        <translation>{work}, {tasks}, {files}, ≈ {duration} por exportação em lote</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>%Ln request(s)</source>
        <translation>
            <numerusform>%Ln requisição</numerusform>
            <numerusform>%Ln requisições</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{requests}, {files}; {time}</source>
        <translation>{requests}, {files}; {time}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{work}, {requests}, {files}; {time}</source>
        <translation>{work}, {requests}, {files}; {time}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{fixed} s per request</source>
        <translation>{fixed} s por requisição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{fixed} s + {per_mp} s/MP per request</source>
        <translation>{fixed} s + {per_mp} s/MP por requisição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>{bound} by direct requests (at the quota: {in_flight} requests in flight, {per_s} requests/s, {latency})</source>
        <translation>{bound} por requisições diretas (na cota: {in_flight} requisições simultâneas, {per_s} requisições/s, {latency})</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>≈ {duration} by %Ln Export task(s) ({startup} s to start each task, {running} running at once, {speed} MP/s each)</source>
        <translation>
            <numerusform>≈ {duration} por %Ln tarefa de exportação ({startup} s para iniciar cada tarefa, {running} ao mesmo tempo, {speed} MP/s cada)</numerusform>
            <numerusform>≈ {duration} por %Ln tarefas de exportação ({startup} s para iniciar cada tarefa, {running} ao mesmo tempo, {speed} MP/s cada)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Method: {method}</source>
        <translation>Método: {method}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Files: {n}</source>
        <translation>Arquivos: {n}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Requests: {n} (features grouped in grid cells, one request each)</source>
        <translation>Requisições: {n} (feições agrupadas em células de uma grade, uma requisição por célula)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Requests: {n} (work units {units}, tiles up to {tile} px a side)</source>
        <translation>Requisições: {n} (unidades de trabalho {units}, blocos de até {tile} px de lado)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Pixels: {n}</source>
        <translation>Pixels: {n}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Data: {size} ({counted} as Earth Engine counts it, with mask bytes)</source>
        <translation>Dados: {size} ({counted} na contagem do Earth Engine, com os bytes da máscara)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Time: {time}</source>
        <translation>Tempo: {time}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Otherwise: {time}</source>
        <translation>Alternativa: {time}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>A lower bound. Once the job runs, the Jobs tab shows the rate measured and the time left from it.</source>
        <translation>Um limite inferior. Quando o trabalho estiver em execução, a aba Trabalhos mostra a taxa medida e o tempo restante calculado a partir dela.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Selected only</source>
        <translation>Só selecionadas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Use only the layer&apos;s selected features</source>
        <translation>Usar só as feições selecionadas da camada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Replace existing output files</source>
        <translation>Substituir arquivos existentes</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Without it, a job whose files already exist stops before it starts</source>
        <translation>Sem isso, um trabalho cujos arquivos já existem para antes de começar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>rasterstats: pixel-centre rule (as EEDL). exactextract: partial-pixel weights, faster on many zones; its PyPI wheel bundles GEOS and has crashed QGIS on Linux, so it is not the default here</source>
        <translation>rasterstats: regra do centro do pixel (como o EEDL). exactextract: pesos por fração de pixel, mais rápido com muitas zonas; seu pacote do PyPI traz o próprio GEOS e já derrubou o QGIS no Linux, por isso não é o padrão aqui</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>One output per image, or a composite per window of days (whole range: one composite), reduced with the reducer</source>
        <translation>Uma saída por imagem, ou uma composição por janela de dias (período inteiro: uma composição), reduzida com o redutor</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Cloud Storage bucket</source>
        <translation>Bucket do Cloud Storage</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Drive folder</source>
        <translation>Pasta do Drive</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>bucket (optional, for batch)</source>
        <translation>bucket (opcional, para lote)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>bucket or Drive folder (exports only)</source>
        <translation>bucket ou pasta (só exportações)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Drag a rectangle on the map.</source>
        <translation>Arraste um retângulo no mapa.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>The map&apos;s current extent.</source>
        <translation>A extensão atual do mapa.</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>%Ln selected feature(s).</source>
        <translation>
            <numerusform>%Ln feição selecionada.</numerusform>
            <numerusform>%Ln feições selecionadas.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Output bands, in this order: {order}</source>
        <translation>Bandas de saída, nesta ordem: {order}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Bands to extract, in the order you check them; none checked means all bands.</source>
        <translation>Bandas a extrair, na ordem em que você as marca; nenhuma marcada significa todas as bandas.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Type an asset ID.</source>
        <translation>Digite o ID de um asset.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Checking {asset} …</source>
        <translation>Verificando {asset} …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>EE Extract: check {asset}</source>
        <translation>EE Extract: verificar {asset}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Edited: convert again before running.</source>
        <translation>Editada: converta de novo antes de executar.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Type an expression first.</source>
        <translation>Digite uma expressão primeiro.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Converting …</source>
        <translation>Convertendo …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>EE Extract: convert expression</source>
        <translation>EE Extract: converter expressão</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Converted: %Ln serialized value(s) stored in the job.</source>
        <translation>
            <numerusform>Convertida: %Ln valor serializado guardado no trabalho.</numerusform>
            <numerusform>Convertida: %Ln valores serializados guardados no trabalho.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Cannot run: {reason}</source>
        <translation>Não é possível executar: {reason}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Cannot run — {reason}</source>
        <translation>Não é possível executar — {reason}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Start the job (it runs in the background; see the Jobs tab)</source>
        <translation>Iniciar o trabalho (ele roda em segundo plano; veja a aba Trabalhos)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Estimate: planning …</source>
        <translation>Estimativa: planejando …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>EE Extract: estimate</source>
        <translation>EE Extract: estimativa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Estimate: — ({reason})</source>
        <translation>Estimativa: — ({reason})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Estimate: {estimate} — large: you will be asked to confirm</source>
        <translation>Estimativa: {estimate} — grande: você terá de confirmar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Estimate: {estimate}</source>
        <translation>Estimativa: {estimate}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>EE Extract: a large job</source>
        <translation>EE Extract: um trabalho grande</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>This job is large:

{estimate}

Start it anyway?</source>
        <translation>Este trabalho é grande:

{estimate}

Iniciar mesmo assim?</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Cannot open job {name}: {error}</source>
        <translation>Não é possível abrir o trabalho {name}: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Save job file</source>
        <translation>Salvar arquivo de trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Job files (*.json)</source>
        <translation>Arquivos de trabalho (*.json)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Job saved to {path}</source>
        <translation>Trabalho salvo em {path}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Open job file</source>
        <translation>Abrir arquivo de trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/expression.py"/>
        <source>The expression is empty: type Python that builds an Earth Engine object.</source>
        <translation>A expressão está vazia: digite código Python que construa um objeto do Earth Engine.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/expression.py"/>
        <source>The last line of the expression (or a variable &apos;image&apos;) must be an Earth Engine object, e.g. ee.Image(&apos;USGS/SRTMGL1_003&apos;).</source>
        <translation>A última linha da expressão (ou uma variável 'image') deve ser um objeto do Earth Engine, ex.: ee.Image('USGS/SRTMGL1_003').</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Image asset</source>
        <translation>Asset de imagem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Expression (Python, ee)</source>
        <translation>Expressão (Python, ee)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>One per image</source>
        <translation>Uma por imagem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Composite</source>
        <translation>Composição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Map canvas extent</source>
        <translation>Extensão do mapa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Layer extent</source>
        <translation>Extensão da camada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Selected features</source>
        <translation>Feições selecionadas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>One output per feature</source>
        <translation>Uma saída por feição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Rectangle drawn on the map</source>
        <translation>Retângulo desenhado no mapa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Points (chips or samples)</source>
        <translation>Pontos (recortes ou amostras)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Mosaic (one raster)</source>
        <translation>Mosaico (um raster)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Chips around points</source>
        <translation>Recortes (chips) nos pontos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>One raster per image or window</source>
        <translation>Um raster por imagem ou janela</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>One raster per feature</source>
        <translation>Um raster por feição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Table computed in Earth Engine</source>
        <translation>Tabela calculada no Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Time series per region</source>
        <translation>Série temporal por região</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Automatic (direct or batch)</source>
        <translation>Automático (direto ou lote)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Direct (parallel requests)</source>
        <translation>Direto (requisições em paralelo)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Export to Cloud Storage</source>
        <translation>Exportar para o Cloud Storage</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Export to Drive</source>
        <translation>Exportar para o Drive</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>choose where results are written</source>
        <translation>escolha onde os resultados serão gravados</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>type Python and press Convert first</source>
        <translation>digite o código Python e clique em Converter primeiro</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>draw a rectangle on the map first</source>
        <translation>desenhe um retângulo no mapa primeiro</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>choose a layer</source>
        <translation>escolha uma camada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>choose a vector layer</source>
        <translation>escolha uma camada vetorial</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>PNG / JPEG need the value range to stretch, as &apos;min, max&apos; (e.g. 0, 3000)</source>
        <translation>PNG / JPEG precisam do intervalo de valores a esticar, como 'mín, máx' (ex.: 0, 3000)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>choose a polygon layer</source>
        <translation>escolha uma camada de polígonos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>choose the zone ID field</source>
        <translation>escolha o campo de ID da zona</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source># loaded from a job file: the serialized expression is kept</source>
        <translation># carregada de um arquivo de trabalho: a expressão serializada é mantida</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Expression loaded from the job file.</source>
        <translation>Expressão carregada do arquivo de trabalho.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>{job} region</source>
        <translation>região de {job}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>starting</source>
        <translation>iniciando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>waiting for the cancelled run to stop</source>
        <translation>aguardando a execução cancelada terminar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>connecting to Earth Engine</source>
        <translation>conectando ao Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>planning: asking Earth Engine about the source</source>
        <translation>planejando: consultando o Earth Engine sobre a fonte</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>resuming: reading what is done</source>
        <translation>retomando: lendo o que já foi feito</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>planned</source>
        <translation>planejado</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>queued</source>
        <translation>na fila</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>running</source>
        <translation>em execução</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>cancelling</source>
        <translation>cancelando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>cancelled</source>
        <translation>cancelado</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>failed</source>
        <translation>falhou</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>completed</source>
        <translation>concluído</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>completed with failures</source>
        <translation>concluído com falhas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>interrupted</source>
        <translation>interrompido</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>not started</source>
        <translation>não iniciado</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} finished: %Ln file(s) in {folder}.</source>
        <translation>
            <numerusform>Trabalho {name} concluído: %Ln arquivo em {folder}.</numerusform>
            <numerusform>Trabalho {name} concluído: %Ln arquivos em {folder}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} finished: %Ln file(s).</source>
        <translation>
            <numerusform>Trabalho {name} concluído: %Ln arquivo.</numerusform>
            <numerusform>Trabalho {name} concluído: %Ln arquivos.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} {state}: {message}</source>
        <translation>Trabalho {name} {state}: {message}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} not started: {message}</source>
        <translation>Trabalho {name} não iniciado: {message}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} failed: {message}</source>
        <translation>O trabalho {name} falhou: {message}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Cannot load the results of {name}: {error}</source>
        <translation>Não é possível carregar os resultados de {name}: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>{job} zones</source>
        <translation>zonas de {job}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Folder: {folder}</source>
        <translation>Pasta: {folder}</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Files: {names} and %Ln more</source>
        <translation>
            <numerusform>Arquivos: {names} e mais %Ln</numerusform>
            <numerusform>Arquivos: {names} e mais %Ln</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Files: {names}</source>
        <translation>Arquivos: {names}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>{percent} ({done}/{total}, {failed} failed)</source>
        <translation>{percent} ({done}/{total}, {failed} com falha)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>measuring the first requests…</source>
        <translation>medindo as primeiras requisições…</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>measured: %Ln unit(s) in {elapsed} ({each} s each)</source>
        <translation>
            <numerusform>medido: %Ln unidade em {elapsed} ({each} s cada)</numerusform>
            <numerusform>medido: %Ln unidades em {elapsed} ({each} s cada)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>{measured}; about {left} left at this pace</source>
        <translation>{measured}; cerca de {left} restantes neste ritmo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Job name</source>
        <translation>Nome</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Extract</source>
        <translation>Extrair</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Source</source>
        <translation>Fonte</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Asset ID</source>
        <translation>Asset</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Expression</source>
        <translation>Expressão</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Bands</source>
        <translation>Bandas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Dates</source>
        <translation>Datas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Filters</source>
        <translation>Filtros</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Images</source>
        <translation>Imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Images (days per composite)</source>
        <translation>Imagens (dias por composição)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Images (reducer)</source>
        <translation>Imagens (redutor)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>From</source>
        <translation>Origem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>From (rectangle)</source>
        <translation>Origem (retângulo)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Layer</source>
        <translation>Camada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>ID field</source>
        <translation>Campo de ID</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Scale</source>
        <translation>Escala</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>CRS</source>
        <translation>SRC</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Folder</source>
        <translation>Pasta</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Format</source>
        <translation>Formato</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>File name prefix</source>
        <translation>Prefixo dos arquivos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Chip size</source>
        <translation>Tamanho do recorte</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Format (PNG / JPEG range)</source>
        <translation>Formato (intervalo PNG / JPEG)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Method</source>
        <translation>Método</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Bucket / folder</source>
        <translation>Bucket / pasta</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Table</source>
        <translation>Tabela</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>Zonal statistics</source>
        <translation>Estatísticas zonais</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Zones</source>
        <translation>Zonas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Zone ID</source>
        <translation>ID da zona</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>Statistics</source>
        <translation>Estatísticas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>the output would be {width} × {height} pixels, more than {limit}: choose a larger {scale} or a smaller region</source>
        <translation>a saída teria {width} × {height} pixels, mais que {limit}: escolha uma {scale} maior ou uma região menor</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>(check “{label}” to replace it)</source>
        <translation>(marque “{label}” para substituí-lo)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>(choose {type} “{value}”)</source>
        <translation>(escolha {type} “{value}”)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>is an image collection</source>
        <translation>é uma coleção de imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>is an image</source>
        <translation>é uma imagem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>type the ID of an Earth Engine image or image collection</source>
        <translation>digite o ID de uma imagem ou coleção de imagens do Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>no features selected</source>
        <translation>nenhuma feição selecionada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>the layer has no features</source>
        <translation>a camada não tem feições</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>the CRS is not a valid coordinate reference system</source>
        <translation>o SRC não é um sistema de referência de coordenadas válido</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>the extent is empty</source>
        <translation>a extensão está vazia</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/qgis_regions.py"/>
        <source>is not a GeoJSON geometry</source>
        <translation>não é uma geometria GeoJSON</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Choose the JSON key file of a service account registered for Earth Engine, then &lt;b&gt;Store key&lt;/b&gt;: the key is copied into QGIS&apos;s encrypted authentication database (you may be asked for the master password); the file itself is not needed afterwards.</source>
        <translation>Escolha o arquivo de chave JSON de uma conta de serviço registrada no Earth Engine e clique em &lt;b&gt;Guardar chave&lt;/b&gt;: a chave é copiada para o banco de dados de autenticação criptografado do QGIS (a senha mestra pode ser pedida); depois disso o arquivo não é mais necessário.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Starts the embedded sandbox inside QGIS on first use: a local server that speaks the Earth Engine REST API with synthetic data (e.g. &lt;code&gt;SANDBOX/DEM&lt;/code&gt;, &lt;code&gt;SANDBOX/S2_SR&lt;/code&gt;). No account, no network.</source>
        <translation>Inicia a sandbox embutida no QGIS no primeiro uso: um servidor local que fala a API REST do Earth Engine com dados sintéticos (ex.: &lt;code&gt;SANDBOX/DEM&lt;/code&gt;, &lt;code&gt;SANDBOX/S2_SR&lt;/code&gt;). Sem conta, sem rede.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>An Earth Engine-compatible endpoint, e.g. a sandbox started with &lt;code&gt;eeextract sandbox&lt;/code&gt; or &lt;code&gt;python -m eeextract_plugin.sandbox&lt;/code&gt;.</source>
        <translation>Um endpoint compatível com o Earth Engine, ex.: uma sandbox iniciada com &lt;code&gt;eeextract sandbox&lt;/code&gt; ou &lt;code&gt;python -m eeextract_plugin.sandbox&lt;/code&gt;.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Key of {email} stored (auth config {id}).</source>
        <translation>Chave de {email} guardada (configuração de autenticação {id}).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Key of a service account stored (auth config {id}).</source>
        <translation>Chave de uma conta de serviço guardada (configuração de autenticação {id}).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>No key stored.</source>
        <translation>Nenhuma chave guardada.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Choose the key file first.</source>
        <translation>Escolha o arquivo de chave primeiro.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Testing …</source>
        <translation>Testando …</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Connected: {connection} (1 + 1 = {value})</source>
        <translation>Conectado: {connection} (1 + 1 = {value})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>EE Extract: test connection</source>
        <translation>EE Extract: testar conexão</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Extract from Earth Engine</source>
        <translation>Extrair do Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Statistics and tables</source>
        <translation>Estatísticas e tabelas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>&lt;h3&gt;Cancel and resume&lt;/h3&gt;&lt;p&gt;Cancelling stops the job; finished parts are kept. Running the algorithm again with the same parameters resumes it and fetches only what is missing.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Cancelar e retomar&lt;/h3&gt;&lt;p&gt;Cancelar interrompe o trabalho; as partes concluídas são mantidas. Executar o algoritmo de novo com os mesmos parâmetros o retoma e baixa só o que falta.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Cancelled.</source>
        <translation>Cancelado.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Cancelled: {error}</source>
        <translation>Cancelado: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Earth Engine connection: {error}</source>
        <translation>Conexão com o Earth Engine: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Earth Engine: {connection}</source>
        <translation>Earth Engine: {connection}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Cancelled by the user.</source>
        <translation>Cancelado pelo usuário.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>The CRS is not valid.</source>
        <translation>O SRC não é válido.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>&lt;p&gt;&lt;b&gt;Asset ID&lt;/b&gt;: an Earth Engine image (or, where dates are given, image collection) ID, e.g. &lt;code&gt;COPERNICUS/S2_SR_HARMONIZED&lt;/code&gt;. &lt;b&gt;Expression&lt;/b&gt; (advanced): instead of an asset, the JSON the Python client produces with &lt;code&gt;ee.serializer.encode(obj, for_cloud_api=True)&lt;/code&gt; — never Python source.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;ID do asset&lt;/b&gt;: o ID de uma imagem do Earth Engine (ou, quando há datas, de uma coleção de imagens), ex.: &lt;code&gt;COPERNICUS/S2_SR_HARMONIZED&lt;/code&gt;. &lt;b&gt;Expressão&lt;/b&gt; (avançado): em vez de um asset, o JSON que o cliente Python produz com &lt;code&gt;ee.serializer.encode(obj, for_cloud_api=True)&lt;/code&gt; — nunca código Python.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>&lt;p&gt;&lt;b&gt;CRS&lt;/b&gt; and &lt;b&gt;scale&lt;/b&gt; (output CRS units per pixel): empty or 0 keep the source&apos;s native grid; pixels are snapped to the native grid when CRS and scale allow.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;SRC&lt;/b&gt; e &lt;b&gt;escala&lt;/b&gt; (unidades do SRC de saída por pixel): vazio ou 0 mantêm a grade nativa da fonte; os pixels são alinhados à grade nativa quando o SRC e a escala permitem.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Bands (comma separated; empty: all)</source>
        <translation>Bandas (separadas por vírgula; vazio: todas)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Start date (YYYY-MM-DD, inclusive)</source>
        <translation>Data inicial (AAAA-MM-DD, inclusiva)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>End date (YYYY-MM-DD, exclusive)</source>
        <translation>Data final (AAAA-MM-DD, exclusiva)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Reducer</source>
        <translation>Redutor</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Expression (serialized JSON, instead of an asset ID)</source>
        <translation>Expressão (JSON serializado, em vez de um ID de asset)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Output CRS (empty: the source&apos;s)</source>
        <translation>SRC de saída (vazio: o da fonte)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Scale: output CRS units per pixel (0: the source&apos;s)</source>
        <translation>Escala: unidades do SRC de saída por pixel (0: a da fonte)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>NoData value for masked pixels (empty: none)</source>
        <translation>Valor NoData dos pixels mascarados (vazio: nenhum)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Extent (with its CRS)</source>
        <translation>Extensão (com seu SRC)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Id field (names the outputs)</source>
        <translation>Campo de ID (nomeia as saídas)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Expected one {what}, the engine wrote {paths}</source>
        <translation>Era esperado um único {what}; o motor gravou {paths}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Give an asset ID or an expression, not both.</source>
        <translation>Informe um ID de asset ou uma expressão, não os dois.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>An asset ID (or an expression) is required.</source>
        <translation>É preciso um ID de asset (ou uma expressão).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>The extent is empty.</source>
        <translation>A extensão está vazia.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>{parameter}: cannot read the layer.</source>
        <translation>{parameter}: não é possível ler a camada.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>{parameter}: the layer has no features (or none selected): choose one that has some.</source>
        <translation>{parameter}: a camada não tem feições (ou nenhuma selecionada): escolha uma que tenha.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Name of the normalized difference band</source>
        <translation>Nome da banda de diferença normalizada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>At most this many images (0: no limit)</source>
        <translation>No máximo este número de imagens (0: sem limite)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>The normalized difference needs exactly two bands, e.g. B8,B4.</source>
        <translation>A diferença normalizada precisa de exatamente duas bandas, ex.: B8,B4.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>job {job}, state kept in {folder}: it can be resumed</source>
        <translation>trabalho {job}, estado guardado em {folder}: pode ser retomado</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Cancelled after {done} of %Ln units ({where})</source>
        <translation>
            <numerusform>Cancelado após {done} de %Ln unidade ({where})</numerusform>
            <numerusform>Cancelado após {done} de %Ln unidades ({where})</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>{message} ({where})</source>
        <translation>{message} ({where})</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Job {job}: {units} units, {megabytes} MB in {seconds} s; %Ln output(s)</source>
        <translation>
            <numerusform>Trabalho {job}: {units} unidades, {megabytes} MB em {seconds} s; %Ln saída</numerusform>
            <numerusform>Trabalho {job}: {units} unidades, {megabytes} MB em {seconds} s; %Ln saídas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Job {name}: {kind} of {source}</source>
        <translation>Trabalho {name}: {kind} de {source}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>an expression</source>
        <translation>uma expressão</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Resuming job {job}: units already fetched are not fetched again</source>
        <translation>Retomando o trabalho {job}: unidades já baixadas não são baixadas de novo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Image property filters: {reason}</source>
        <translation>Filtros de propriedades das imagens: {reason}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/connection.py"/>
        <source>{parameter} / {variable}: {error}</source>
        <translation>{parameter} / {variable}: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Export and mosaic (Cloud Storage / Drive)</source>
        <translation>Exportar e mosaicar (Cloud Storage / Drive)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>&lt;p&gt;For regions too large for direct requests: submits batch exports (&lt;code&gt;Export.image.toCloudStorage&lt;/code&gt; / &lt;code&gt;toDrive&lt;/code&gt;), follows them, downloads every part (paged listing, checksums) and mosaics them into one Cloud-Optimized GeoTIFF. The job is persistent: run it again to resume.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Para regiões grandes demais para requisições diretas: envia exportações em lote (&lt;code&gt;Export.image.toCloudStorage&lt;/code&gt; / &lt;code&gt;toDrive&lt;/code&gt;), acompanha-as, baixa cada parte (listagem paginada, checksums) e as junta num mosaico em um único Cloud-Optimized GeoTIFF. O trabalho é persistente: execute-o de novo para retomá-lo.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Cloud Storage bucket (empty: settings)</source>
        <translation>Bucket do Cloud Storage (vazio: configurações)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Drive folder (empty: settings)</source>
        <translation>Pasta do Drive (vazio: configurações)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Part size (pixels a side, a multiple of 256)</source>
        <translation>Tamanho das partes (pixels de lado, múltiplo de 256)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>Output raster</source>
        <translation>Raster de saída</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>A Cloud Storage bucket is required (parameter or settings).</source>
        <translation>É preciso um bucket do Cloud Storage (parâmetro ou configurações).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>A Drive folder is required (parameter or settings).</source>
        <translation>É preciso uma pasta do Drive (parâmetro ou configurações).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>mosaic</source>
        <translation>mosaico</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Extract chips at points</source>
        <translation>Extrair recortes (chips) em pontos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>&lt;p&gt;One chip of &lt;i&gt;chip size&lt;/i&gt; × &lt;i&gt;chip size&lt;/i&gt; pixels centred on each point of the layer, fetched in parallel (e.g. 4,000 RGB chips of 256 × 256 for training data). Files are named by the &lt;b&gt;id field&lt;/b&gt; (the feature id when empty).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Um recorte (chip) de &lt;i&gt;tamanho do recorte&lt;/i&gt; × &lt;i&gt;tamanho do recorte&lt;/i&gt; pixels centrado em cada ponto da camada, baixados em paralelo (ex.: 4.000 recortes RGB de 256 × 256 para dados de treinamento). Os arquivos são nomeados pelo &lt;b&gt;campo de ID&lt;/b&gt; (o ID da feição quando vazio).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>&lt;p&gt;With a &lt;b&gt;start&lt;/b&gt; and &lt;b&gt;end date&lt;/b&gt;, the asset is an image collection and chips come from its composite over that range (with the &lt;b&gt;reducer&lt;/b&gt;).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Com &lt;b&gt;data inicial&lt;/b&gt; e &lt;b&gt;data final&lt;/b&gt;, o asset é uma coleção de imagens e os recortes vêm da sua composição nesse período (com o &lt;b&gt;redutor&lt;/b&gt;).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>&lt;p&gt;&lt;b&gt;Format&lt;/b&gt;: GeoTIFF keeps values and georeferencing; PNG / JPEG are visualized with &lt;b&gt;min&lt;/b&gt; / &lt;b&gt;max&lt;/b&gt; (one value, or one per band).&lt;/p&gt;&lt;p&gt;&lt;b&gt;Outputs&lt;/b&gt;: the folder of chips and a polygon layer of chip footprints with the point id and the chip&apos;s file.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Formato&lt;/b&gt;: GeoTIFF mantém os valores e o georreferenciamento; PNG / JPEG são visualizados com &lt;b&gt;mín&lt;/b&gt; / &lt;b&gt;máx&lt;/b&gt; (um valor, ou um por banda).&lt;/p&gt;&lt;p&gt;&lt;b&gt;Saídas&lt;/b&gt;: a pasta de recortes e uma camada de polígonos com o contorno de cada recorte, o ID do ponto e o arquivo do recorte.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Points (chip centres)</source>
        <translation>Pontos (centros dos recortes)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Chip size (pixels a side)</source>
        <translation>Tamanho do recorte (pixels de lado)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Format (COG, GEO_TIFF, PNG / JPEG visualized, NPY)</source>
        <translation>Formato (COG, GEO_TIFF, PNG / JPEG visualizados, NPY)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Visualization min (PNG/JPEG; one value or one per band)</source>
        <translation>Mínimo da visualização (PNG/JPEG; um valor ou um por banda)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Visualization max (PNG/JPEG; one value or one per band)</source>
        <translation>Máximo da visualização (PNG/JPEG; um valor ou um por banda)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Chips folder</source>
        <translation>Pasta dos recortes</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Chip footprints</source>
        <translation>Contornos dos recortes</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_chips.py"/>
        <source>Number of chips</source>
        <translation>Número de recortes</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_collection.py"/>
        <source>Extract image collection</source>
        <translation>Extrair coleção de imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_collection.py"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs&lt;/b&gt;: the folder of rasters and an index layer with one footprint per raster: file, image id or window, start and end dates.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Saídas&lt;/b&gt;: a pasta de rasters e uma camada de índice com um contorno por raster: arquivo, ID da imagem ou janela, datas inicial e final.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Image collection ID</source>
        <translation>ID da coleção de imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_collection.py"/>
        <source>Date window (days; 0: the whole range)</source>
        <translation>Janela de datas (dias; 0: o período inteiro)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>Output folder</source>
        <translation>Pasta de saída</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>Index of rasters</source>
        <translation>Índice dos rasters</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>Number of rasters</source>
        <translation>Número de rasters</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>Extract image (direct)</source>
        <translation>Extrair imagem (direto)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>&lt;p&gt;Downloads one region of an Earth Engine image as a Cloud-Optimized GeoTIFF, by many parallel interactive requests (tiles sized under Earth Engine&apos;s request limits, retried on 429 and server errors), then mosaicked.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Baixa uma região de uma imagem do Earth Engine como Cloud-Optimized GeoTIFF, por muitas requisições interativas em paralelo (blocos dentro dos limites de requisição do Earth Engine, repetidos em caso de 429 e erros do servidor), depois juntados num mosaico.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>&lt;p&gt;&lt;b&gt;Extent&lt;/b&gt;: the region, in the CRS it is given in; it is reprojected to the output CRS before tiling.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Extensão&lt;/b&gt;: a região, no SRC em que foi dada; ela é reprojetada para o SRC de saída antes da divisão em blocos.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>&lt;p&gt;&lt;b&gt;Output&lt;/b&gt;: the raster (GeoTIFF); it can feed other algorithms of a model.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Saída&lt;/b&gt;: o raster (GeoTIFF); ele pode alimentar outros algoritmos de um modelo.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_image.py"/>
        <source>raster</source>
        <translation>raster</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>Extract image per feature</source>
        <translation>Extrair imagem por feição</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>&lt;p&gt;One raster per polygon of the layer (fields, parcels, basins), each on the output grid over the polygon&apos;s extent, fetched in parallel and named by the &lt;b&gt;id field&lt;/b&gt; (the feature id when empty).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Um raster por polígono da camada (talhões, lotes, bacias), cada um na grade de saída sobre a extensão do polígono, baixados em paralelo e nomeados pelo &lt;b&gt;campo de ID&lt;/b&gt; (o ID da feição quando vazio).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>&lt;p&gt;With a &lt;b&gt;start&lt;/b&gt; and &lt;b&gt;end date&lt;/b&gt;, the asset is an image collection and the rasters come from its composite over that range (with the &lt;b&gt;reducer&lt;/b&gt;).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Com &lt;b&gt;data inicial&lt;/b&gt; e &lt;b&gt;data final&lt;/b&gt;, o asset é uma coleção de imagens e os rasters vêm da sua composição nesse período (com o &lt;b&gt;redutor&lt;/b&gt;).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>&lt;p&gt;&lt;b&gt;Outputs&lt;/b&gt;: the folder of rasters and an index layer with each raster&apos;s footprint, feature id and file.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Saídas&lt;/b&gt;: a pasta de rasters e uma camada de índice com o contorno de cada raster, o ID da feição e o arquivo.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_per_feature.py"/>
        <source>Polygons</source>
        <translation>Polígonos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/feedback.py"/>
        <source>{done}/{total} units, about {seconds} s left</source>
        <translation>{done}/{total} unidades, cerca de {seconds} s restantes</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/feedback.py"/>
        <source>{done}/{total} units</source>
        <translation>{done}/{total} unidades</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/provider.py"/>
        <source>EE Extract (Google Earth Engine bulk extraction)</source>
        <translation>EE Extract (extração em massa do Google Earth Engine)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Run a job file</source>
        <translation>Executar um arquivo de trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>&lt;p&gt;Runs an EE Extract job file (JSON, version 1: the format the dock saves and &lt;code&gt;eeextract run&lt;/code&gt; reads) as it is: any kind — mosaic, chips, collection, one raster per feature, tables, time series — by direct requests or batch exports. Paths in the file are relative to the file.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Output folder&lt;/b&gt;: replaces the file's &lt;code&gt;output.directory&lt;/code&gt; when given.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Outputs&lt;/b&gt;: the folder and the list of files written.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Executa um arquivo de trabalho do EE Extract (JSON, versão 1: o formato que o painel salva e o &lt;code&gt;eeextract run&lt;/code&gt; lê) como está: qualquer tipo — mosaico, recortes, coleção, um raster por feição, tabelas, séries temporais — por requisições diretas ou exportações em lote. Os caminhos no arquivo são relativos ao arquivo.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Pasta de saída&lt;/b&gt;: substitui o &lt;code&gt;output.directory&lt;/code&gt; do arquivo quando informada.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Saídas&lt;/b&gt;: a pasta e a lista de arquivos gravados.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Job file (JSON)</source>
        <translation>Arquivo de trabalho (JSON)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Output folder (empty: the job file&apos;s)</source>
        <translation>Pasta de saída (vazio: a do arquivo de trabalho)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Folder of the outputs</source>
        <translation>Pasta das saídas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Files written</source>
        <translation>Arquivos gravados</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Number of files written</source>
        <translation>Número de arquivos gravados</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/run_job_file.py"/>
        <source>Job file: {error}</source>
        <translation>Arquivo de trabalho: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Sample and reduce in Earth Engine</source>
        <translation>Amostrar e reduzir no Earth Engine</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>&lt;p&gt;&lt;b&gt;Output&lt;/b&gt;: the features with one field per band (GeoPackage); a CSV is written next to it.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Saída&lt;/b&gt;: as feições com um campo por banda (GeoPackage); um CSV é gravado ao lado.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Points or polygons</source>
        <translation>Pontos ou polígonos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Id field (kept in the output)</source>
        <translation>Campo de ID (mantido na saída)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Scale (metres; 0: the image&apos;s)</source>
        <translation>Escala (metros; 0: a da imagem)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Output layer</source>
        <translation>Camada de saída</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>GeoPackage</source>
        <translation>GeoPackage</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>&lt;p&gt;For every image of a collection between two dates (after optional property filters), the &lt;b&gt;reducer&lt;/b&gt; of each band over each region at &lt;b&gt;scale&lt;/b&gt; metres — or, when a &lt;b&gt;normalized difference&lt;/b&gt; is given (e.g. &lt;code&gt;B8,B4&lt;/code&gt; for NDVI), of that index alone — computed in Earth Engine.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Output&lt;/b&gt;: a CSV table with one row per image per region: the region's id (under the layer's id field name), time (ms), date, one column per band or the index, and the image id.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Para cada imagem de uma coleção entre duas datas (após filtros de propriedades opcionais), o &lt;b&gt;redutor&lt;/b&gt; de cada banda sobre cada região na &lt;b&gt;escala&lt;/b&gt; em metros — ou, quando uma &lt;b&gt;diferença normalizada&lt;/b&gt; é dada (ex.: &lt;code&gt;B8,B4&lt;/code&gt; para o NDVI), só desse índice — calculado no Earth Engine.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Saída&lt;/b&gt;: uma tabela CSV com uma linha por imagem por região: o ID da região (com o nome do campo de ID da camada), tempo (ms), data, uma coluna por banda ou o índice, e o ID da imagem.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Regions</source>
        <translation>Regiões</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Region id field</source>
        <translation>Campo de ID da região</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Scale (metres; 0: the images&apos;)</source>
        <translation>Escala (metros; 0: a das imagens)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>Time series table</source>
        <translation>Tabela da série temporal</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>CSV files (*.csv)</source>
        <translation>Arquivos CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/time_series.py"/>
        <source>CSV table</source>
        <translation>tabela CSV</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zonal statistics (local)</source>
        <translation>Estatísticas zonais (local)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>&lt;p&gt;Statistics of a raster (for example one this plugin extracted) per zone of a polygon layer, computed locally, per band.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Statistics&lt;/b&gt;, comma separated: count, sum, mean, min, max, stddev, median, pNN (percentile, e.g. p10, p90), majority, minority, variety, frac (class fractions of a categorical raster: one column per class).&lt;/p&gt;&lt;p&gt;&lt;b&gt;Engine&lt;/b&gt;: &lt;i&gt;exactextract&lt;/i&gt; weights each pixel by the part of it inside the zone (exact for small zones and fast on many zones); &lt;i&gt;rasterstats&lt;/i&gt; counts the pixels whose centre is inside (EEDL's tables use it); &lt;i&gt;qgis&lt;/i&gt; is QGIS's own zonal statistics (pixel centres). Inside QGIS an engine whose package brings its own GDAL/GEOS (PyPI's wheels) never runs: QGIS's runs instead (Settings → Zonal statistics says which). Zones in another CRS are reprojected; zones outside the raster get count 0 and empty statistics; invalid geometries are repaired or reported by id.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Outputs&lt;/b&gt;: a CSV table (id field + one column per band and statistic) and the zones with the statistics as fields (GeoPackage).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Estatísticas de um raster (por exemplo, um extraído por este complemento) por zona de uma camada de polígonos, calculadas localmente, por banda.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Estatísticas&lt;/b&gt;, separadas por vírgula: count, sum, mean, min, max, stddev, median, pNN (percentil, ex.: p10, p90), majority, minority, variety, frac (frações de classe de um raster categórico: uma coluna por classe).&lt;/p&gt;&lt;p&gt;&lt;b&gt;Motor&lt;/b&gt;: o &lt;i&gt;exactextract&lt;/i&gt; pondera cada pixel pela parte dele dentro da zona (exato para zonas pequenas e rápido com muitas zonas); o &lt;i&gt;rasterstats&lt;/i&gt; conta os pixels cujo centro está dentro (as tabelas do EEDL o usam); &lt;i&gt;qgis&lt;/i&gt; são as estatísticas zonais do próprio QGIS (centros dos pixels). Dentro do QGIS, um motor cujo pacote traz o próprio GDAL/GEOS (os pacotes do PyPI) nunca roda: o do QGIS roda no lugar (Configurações → Estatísticas zonais diz qual). Zonas em outro SRC são reprojetadas; zonas fora do raster recebem contagem 0 e estatísticas vazias; geometrias inválidas são reparadas ou relatadas pelo ID.&lt;/p&gt;&lt;p&gt;&lt;b&gt;Saídas&lt;/b&gt;: uma tabela CSV (campo de ID + uma coluna por banda e estatística) e as zonas com as estatísticas como campos (GeoPackage).&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Raster</source>
        <translation>Raster</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Bands (empty: all)</source>
        <translation>Bandas (vazio: todas)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zones (polygons)</source>
        <translation>Zonas (polígonos)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zone id field</source>
        <translation>Campo de ID da zona</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Statistics (comma separated)</source>
        <translation>Estatísticas (separadas por vírgula)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Statistics table</source>
        <translation>Tabela de estatísticas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zones with statistics</source>
        <translation>Zonas com estatísticas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Number of zones</source>
        <translation>Número de zonas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zones with data</source>
        <translation>Zonas com dados</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>The raster cannot be read.</source>
        <translation>Não é possível ler o raster.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>The raster must be a file readable by GDAL.</source>
        <translation>O raster deve ser um arquivo legível pelo GDAL.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Zonal statistics with {engine}: {statistics}</source>
        <translation>Estatísticas zonais com {engine}: {statistics}</translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>%Ln zone(s) outside the raster: {ids}</source>
        <translation>
            <numerusform>%Ln zona fora do raster: {ids}</numerusform>
            <numerusform>%Ln zonas fora do raster: {ids}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>%Ln zone(s) repaired: {ids}</source>
        <translation>
            <numerusform>%Ln zona reparada: {ids}</numerusform>
            <numerusform>%Ln zonas reparadas: {ids}</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>zone {id}: {message}</source>
        <translation>zona {id}: {message}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_session.py"/>
        <source>the shapely package in this QGIS does not work with QGIS&apos;s own GEOS library (geometries come out empty). Install a shapely built against it, e.g. &apos;pip install --no-binary shapely shapely&apos; (needs the GEOS development files) or your system&apos;s python3-shapely package, then restart QGIS.</source>
        <translation>o pacote shapely deste QGIS não funciona com a biblioteca GEOS do próprio QGIS (as geometrias saem vazias). Instale um shapely compilado com ela, ex.: 'pip install --no-binary shapely shapely' (precisa dos arquivos de desenvolvimento do GEOS) ou o pacote python3-shapely do seu sistema, e reinicie o QGIS.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_session.py"/>
        <source>{modules} not found: the embedded sandbox needs shapely and pyproj in QGIS&apos;s Python: on Linux install python3-shapely and python3-pyproj, on Windows run &apos;pip install shapely pyproj&apos; in the OSGeo4W Shell, on macOS in QGIS&apos;s Python; or start a sandbox outside QGIS (&apos;eeextract sandbox&apos;) and connect with Custom URL</source>
        <translation>{modules} não encontrado: a sandbox embutida precisa do shapely e do pyproj no Python do QGIS: no Linux instale python3-shapely e python3-pyproj, no Windows rode 'pip install shapely pyproj' no OSGeo4W Shell, no macOS no Python do QGIS; ou inicie uma sandbox fora do QGIS ('eeextract sandbox') e conecte com URL personalizada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_session.py"/>
        <source>Not signed in to Earth Engine on this computer: run &apos;earthengine authenticate&apos; in a terminal (or choose a service-account key in EE Extract&apos;s settings), then try again</source>
        <translation>Sem login no Earth Engine neste computador: rode 'earthengine authenticate' num terminal (ou escolha uma chave de conta de serviço nas configurações do EE Extract) e tente de novo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_session.py"/>
        <source>Earth Engine initialisation failed at {endpoint}: {error}</source>
        <translation>A inicialização do Earth Engine falhou em {endpoint}: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Uses your Google account's Earth Engine credentials: &lt;b&gt;Sign in with Google&lt;/b&gt; below (your browser opens Google's consent page), or those the Earth Engine command line saved (&lt;code&gt;earthengine authenticate&lt;/code&gt;) — the two share one file. The Cloud project must have the Earth Engine API enabled; &lt;b&gt;Check project&lt;/b&gt; makes one call to see that it does.</source>
        <translation>Usa as credenciais do Earth Engine da sua conta Google: &lt;b&gt;Entrar com o Google&lt;/b&gt; abaixo (o navegador abre a página de consentimento do Google), ou as que a linha de comando do Earth Engine salvou (&lt;code&gt;earthengine authenticate&lt;/code&gt;) — as duas usam o mesmo arquivo. O projeto Cloud precisa ter a API do Earth Engine ativada; &lt;b&gt;Verificar projeto&lt;/b&gt; faz uma chamada para conferir.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>connection mode: {mode} is not one of {modes}</source>
        <translation>modo de conexão: {mode} não é um de {modes}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>key file: cannot read {path}: {error}</source>
        <translation>arquivo de chave: não é possível ler {path}: {error}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>key file: {path} is not JSON</source>
        <translation>arquivo de chave: {path} não é JSON</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>key file: {path} is not a service-account key (type must be service_account)</source>
        <translation>arquivo de chave: {path} não é uma chave de conta de serviço (type deve ser service_account)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>key file: {path} has no {field}</source>
        <translation>arquivo de chave: {path} não tem {field}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>QGIS authentication database is disabled; cannot store the key</source>
        <translation>o banco de dados de autenticação do QGIS está desativado; não é possível guardar a chave</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>QGIS master password not given; the key was not stored</source>
        <translation>senha mestra do QGIS não informada; a chave não foi guardada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>QGIS authentication database refused to store the key</source>
        <translation>o banco de dados de autenticação do QGIS recusou guardar a chave</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>service account: the stored key was not found in the QGIS auth database</source>
        <translation>conta de serviço: a chave guardada não foi encontrada no banco de dados de autenticação do QGIS</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>service account: the stored key is not valid JSON</source>
        <translation>conta de serviço: a chave guardada não é um JSON válido</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>engine &apos;{engine}&apos;: the {module} package brings its own native libraries ({libs}), which clash with QGIS&apos;s</source>
        <translation>motor '{engine}': o pacote {module} traz as próprias bibliotecas nativas ({libs}), que conflitam com as do QGIS</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>QGIS&apos;s zonal statistics run ({reason}).</source>
        <translation>Rodam as estatísticas zonais do QGIS ({reason}).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>QGIS&apos;s zonal statistics run (pixel centres; tiny zones weighted by area).</source>
        <translation>Rodam as estatísticas zonais do QGIS (centros dos pixels; zonas minúsculas ponderadas pela área).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>{engine} runs.</source>
        <translation>Roda o {engine}.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>engine &apos;qgis&apos; (QGIS&apos;s zonal statistics) does not compute {missing}; it computes {known}</source>
        <translation>o motor 'qgis' (estatísticas zonais do QGIS) não calcula {missing}; ele calcula {known}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_zonal.py"/>
        <source>raster {path}: QGIS cannot read it</source>
        <translation>raster {path}: o QGIS não consegue lê-lo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>QGIS&apos;s zonal statistics</source>
        <translation>Estatísticas zonais do QGIS</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>Google account</source>
        <translation>Conta Google</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>&lt;b&gt;Not available here&lt;/b&gt;: {problem}.</source>
        <translation>&lt;b&gt;Indisponível aqui&lt;/b&gt;: {problem}.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/tasks.py"/>
        <source>EE Extract: {job}</source>
        <translation>EE Extract: {job}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>planning…</source>
        <translation>planejando…</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>min, max</source>
        <translation>mín, máx</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>PNG / JPEG are 8-bit pictures: the value range (min, max, e.g. 0, 3000) stretched to 0–255, for every band (1 or 3 bands)</source>
        <translation>PNG / JPEG são imagens de 8 bits: o intervalo de valores (mín, máx, ex.: 0, 3000) é esticado para 0–255, em cada banda (1 ou 3 bandas)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Statistics per polygon: Earth Engine&apos;s reduceRegions, with the reducer beside; values at points: its sample</source>
        <translation>Estatísticas por polígono: o reduceRegions do Earth Engine, com o redutor ao lado; valores nos pontos: o sample dele</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Statistics per polygon</source>
        <translation>Estatísticas por polígono</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/job_form.py"/>
        <source>Values at points</source>
        <translation>Valores nos pontos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Asset ID</source>
        <comment>Processing parameter</comment>
        <translation>ID do asset</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/i18n.py"/>
        <source>unknown</source>
        <comment>a duration</comment>
        <translation>desconhecido</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/i18n.py"/>
        <source>under 1 s</source>
        <translation>menos de 1 s</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/i18n.py"/>
        <source>{n} days</source>
        <translation>{n} dias</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/i18n.py"/>
        <source>unknown</source>
        <comment>a size</comment>
        <translation>desconhecido</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/layers.py"/>
        <source>{job} footprints</source>
        <translation>contornos de {job}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.py"/>
        <source>Cannot check: {why}</source>
        <translation>Não é possível verificar: {why}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>waiting</source>
        <translation>aguardando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>connecting</source>
        <translation>conectando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>planning</source>
        <translation>planejando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>resuming</source>
        <translation>retomando</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Cannot start: {why}</source>
        <translation>Não é possível iniciar: {why}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Cannot resume: {why}</source>
        <translation>Não é possível retomar: {why}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} cancelled before a file was finished: Resume completes it.</source>
        <translation>Trabalho {name} cancelado antes de concluir um arquivo: Retomar o completa.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} cancelled: {done} of {total} file(s) kept, not loaded (Load shows them). Resume completes it.</source>
        <translation>Trabalho {name} cancelado: {done} de {total} arquivo(s) mantido(s), não carregado(s) (Carregar os mostra). Retomar o completa.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Job {name} is not finished: {done} of {total} file(s) loaded. Resume completes it.</source>
        <translation>Trabalho {name} não concluído: {done} de {total} arquivo(s) carregado(s). Retomar o completa.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Time left at the pace measured so far</source>
        <translation>Tempo restante no ritmo medido até agora</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>EE Extract settings → Jobs</source>
        <translation>Configurações do EE Extract → Trabalhos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>EE Extract settings → Concurrent requests</source>
        <translation>Configurações do EE Extract → Requisições simultâneas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>EE Extract settings → Requests per second</source>
        <translation>Configurações do EE Extract → Requisições por segundo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>EE Extract settings → Run requests on</source>
        <translation>Configurações do EE Extract → Executar requisições em</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>EE Extract settings → Dask scheduler</source>
        <translation>Configurações do EE Extract → Agendador Dask</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/messages.py"/>
        <source>or run requests on “{where}”</source>
        <translation>ou execute as requisições em “{where}”</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>This computer (in QGIS)</source>
        <translation>Este computador (no QGIS)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>A Dask cluster</source>
        <translation>Um cluster Dask</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Requests run in QGIS, in the background.</source>
        <translation>As requisições rodam no QGIS, em segundo plano.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Requests run as tasks on the cluster; QGIS keeps the quota and the job&apos;s record.</source>
        <translation>As requisições rodam como tarefas no cluster; o QGIS controla a cota e o registro do trabalho.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.py"/>
        <source>Dask is not installed in QGIS&apos;s Python (pip install &quot;dask[distributed]&quot;): jobs would stop before they start.</source>
        <translation>O Dask não está instalado no Python do QGIS (pip install &quot;dask[distributed]&quot;): os trabalhos parariam antes de começar.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>&lt;h3&gt;Earth Engine connection&lt;/h3&gt;&lt;p&gt;The connection comes from the advanced parameters &lt;i&gt;Earth Engine URL&lt;/i&gt;, &lt;i&gt;Cloud project&lt;/i&gt; and &lt;i&gt;Credentials&lt;/i&gt; when set; otherwise from the environment variables &lt;code&gt;EEEXTRACT_URL&lt;/code&gt;, &lt;code&gt;EEEXTRACT_PROJECT&lt;/code&gt;, &lt;code&gt;EEEXTRACT_CREDENTIALS&lt;/code&gt; (useful with &lt;code&gt;qgis_process&lt;/code&gt;); otherwise from the plugin&apos;s connection settings. &lt;i&gt;Credentials&lt;/i&gt;: &lt;code&gt;persistent&lt;/code&gt; (your Google account&apos;s, as &lt;code&gt;earthengine authenticate&lt;/code&gt; saved them), &lt;code&gt;none&lt;/code&gt; (a sandbox) or the path of a service-account key file. &lt;i&gt;Concurrent requests&lt;/i&gt;: your project&apos;s quota (Earth Engine&apos;s default is 40). All rows of a batch share one Earth Engine session.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Conexão com o Earth Engine&lt;/h3&gt;&lt;p&gt;A conexão vem dos parâmetros avançados &lt;i&gt;URL do Earth Engine&lt;/i&gt;, &lt;i&gt;Projeto Cloud&lt;/i&gt; e &lt;i&gt;Credenciais&lt;/i&gt; quando informados; senão, das variáveis de ambiente &lt;code&gt;EEEXTRACT_URL&lt;/code&gt;, &lt;code&gt;EEEXTRACT_PROJECT&lt;/code&gt;, &lt;code&gt;EEEXTRACT_CREDENTIALS&lt;/code&gt; (úteis com &lt;code&gt;qgis_process&lt;/code&gt;); senão, das configurações de conexão do complemento. &lt;i&gt;Credenciais&lt;/i&gt;: &lt;code&gt;persistent&lt;/code&gt; (as da sua conta Google, como &lt;code&gt;earthengine authenticate&lt;/code&gt; as salvou), &lt;code&gt;none&lt;/code&gt; (um sandbox) ou o caminho de um arquivo de chave de conta de serviço. &lt;i&gt;Requisições simultâneas&lt;/i&gt;: a cota do seu projeto (o padrão do Earth Engine é 40). Todas as linhas de um lote compartilham uma sessão do Earth Engine.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Earth Engine URL (empty: the plugin&apos;s settings)</source>
        <translation>URL do Earth Engine (vazio: as configurações do complemento)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Cloud project (empty: the plugin&apos;s settings)</source>
        <translation>Projeto Cloud (vazio: as configurações do complemento)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Credentials (empty: the plugin&apos;s settings)</source>
        <translation>Credenciais (vazio: as configurações do complemento)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Concurrent requests (0: the plugin&apos;s setting)</source>
        <translation>Requisições simultâneas (0: a configuração do complemento)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Image property filters (e.g. CLOUDY_PIXEL_PERCENTAGE &lt; 20)</source>
        <translation>Filtros de propriedades das imagens (ex.: CLOUDY_PIXEL_PERCENTAGE &lt; 20)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/base.py"/>
        <source>Normalized difference of two bands (e.g. B8,B4)</source>
        <translation>Diferença normalizada de duas bandas (ex.: B8,B4)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>&lt;p&gt;&lt;b&gt;Export to&lt;/b&gt; &lt;code&gt;export_gcs&lt;/code&gt;: a Cloud Storage &lt;b&gt;bucket&lt;/b&gt;; &lt;code&gt;export_drive&lt;/code&gt;: a &lt;b&gt;Drive folder&lt;/b&gt;. Empty uses the plugin&apos;s settings. Private buckets are read with the connection&apos;s credentials.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Exportar para&lt;/b&gt; &lt;code&gt;export_gcs&lt;/code&gt;: um &lt;b&gt;bucket&lt;/b&gt; do Cloud Storage; &lt;code&gt;export_drive&lt;/code&gt;: uma &lt;b&gt;pasta do Drive&lt;/b&gt;. Vazio usa as configurações do complemento. Buckets privados são lidos com as credenciais da conexão.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Export to (Cloud Storage or Drive)</source>
        <translation>Exportar para (Cloud Storage ou Drive)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/export_mosaic.py"/>
        <source>Prefix of the exported parts (empty: the job&apos;s)</source>
        <translation>Prefixo das partes exportadas (vazio: o do trabalho)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_collection.py"/>
        <source>&lt;p&gt;The images of an Earth Engine image collection over an extent, between two dates (start inclusive, end exclusive), after optional property filters (&lt;code&gt;CLOUDY_PIXEL_PERCENTAGE &amp;lt; 20; SPACECRAFT_NAME == Sentinel-2A&lt;/code&gt;):&lt;/p&gt;&lt;ul&gt;&lt;li&gt;&lt;b&gt;One raster per image&lt;/b&gt; (&lt;i&gt;Outputs&lt;/i&gt; &lt;code&gt;per_image&lt;/code&gt;), named by the image; or&lt;/li&gt;&lt;li&gt;&lt;b&gt;One composite per date window&lt;/b&gt; (&lt;code&gt;composite&lt;/code&gt;) of &lt;i&gt;window&lt;/i&gt; days (0: one composite of the whole range), reduced with the &lt;b&gt;reducer&lt;/b&gt;.&lt;/li&gt;&lt;/ul&gt;&lt;p&gt;An optional &lt;b&gt;normalized difference&lt;/b&gt; (e.g. &lt;code&gt;B8,B4&lt;/code&gt; for NDVI) is added as a band.&lt;/p&gt;</source>
        <translation>&lt;p&gt;As imagens de uma coleção de imagens do Earth Engine sobre uma extensão, entre duas datas (início inclusivo, fim exclusivo), após filtros de propriedades opcionais (&lt;code&gt;CLOUDY_PIXEL_PERCENTAGE &amp;lt; 20; SPACECRAFT_NAME == Sentinel-2A&lt;/code&gt;):&lt;/p&gt;&lt;ul&gt;&lt;li&gt;&lt;b&gt;Um raster por imagem&lt;/b&gt; (&lt;i&gt;Saídas&lt;/i&gt; &lt;code&gt;per_image&lt;/code&gt;), nomeado pela imagem; ou&lt;/li&gt;&lt;li&gt;&lt;b&gt;Uma composição por janela de datas&lt;/b&gt; (&lt;code&gt;composite&lt;/code&gt;) de &lt;i&gt;janela&lt;/i&gt; dias (0: uma composição do período inteiro), reduzida com o &lt;b&gt;redutor&lt;/b&gt;.&lt;/li&gt;&lt;/ul&gt;&lt;p&gt;Uma &lt;b&gt;diferença normalizada&lt;/b&gt; opcional (ex.: &lt;code&gt;B8,B4&lt;/code&gt; para o NDVI) é acrescentada como banda.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/extract_collection.py"/>
        <source>Outputs (per_image or composite)</source>
        <translation>Saídas (per_image ou composite)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>&lt;p&gt;Computes in Earth Engine, for each feature of the input layer, the image&apos;s band values at the point (&lt;b&gt;Operation&lt;/b&gt; &lt;code&gt;sample&lt;/code&gt;) or the &lt;b&gt;reducer&lt;/b&gt; of its pixels over the polygon (&lt;code&gt;reduce_regions&lt;/code&gt;) at &lt;b&gt;scale&lt;/b&gt; metres. Nearby features share one request.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Calcula no Earth Engine, para cada feição da camada de entrada, os valores das bandas da imagem no ponto (&lt;b&gt;Operação&lt;/b&gt; &lt;code&gt;sample&lt;/code&gt;) ou o &lt;b&gt;redutor&lt;/b&gt; dos seus pixels sobre o polígono (&lt;code&gt;reduce_regions&lt;/code&gt;) na &lt;b&gt;escala&lt;/b&gt; em metros. Feições próximas compartilham uma requisição.&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/sample_reduce.py"/>
        <source>Operation (sample or reduce_regions)</source>
        <translation>Operação (sample ou reduce_regions)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/processing/zonal_statistics.py"/>
        <source>Engine</source>
        <translation>Motor</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_session.py"/>
        <source>not signed in on this computer: Sign in with Google, or run &apos;earthengine authenticate&apos;</source>
        <translation>sem login neste computador: Entrar com o Google, ou rode 'earthengine authenticate'</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>{field}: {reason}</source>
        <translation>{field}: {reason}</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>{message} (EE Extract settings → {field})</source>
        <translation>{message} (Configurações do EE Extract → {field})</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Cloud project</source>
        <translation>Projeto Cloud</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Key file</source>
        <translation>Arquivo de chave</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Concurrent requests</source>
        <translation>Requisições simultâneas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Requests per second</source>
        <translation>Requisições por segundo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Run requests on</source>
        <translation>Executar requisições em</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>Dask scheduler</source>
        <translation>Agendador Dask</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>required to use Earth Engine: type your project&apos;s ID</source>
        <translation>obrigatório para usar o Earth Engine: digite o ID do seu projeto</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>must start with http:// or https://</source>
        <translation>deve começar com http:// ou https://</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/qgis_settings.py"/>
        <source>no key stored yet: choose the key file, then Store key</source>
        <translation>nenhuma chave guardada ainda: escolha o arquivo de chave e depois Guardar chave</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>Automatic</source>
        <translation>Automático</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/settings_extras.py"/>
        <source>Automatic: the job&apos;s engine when it is safe in QGIS, else QGIS&apos;s own</source>
        <translation>Automático: o motor do trabalho quando é seguro no QGIS, senão o do próprio QGIS</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/jobs.py"/>
        <source>Open folder</source>
        <translation>Abrir pasta</translation>
    </message>
</context>
<context>
    <name>EEExtractDock</name>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>New job</source>
        <translation>Novo trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Source</source>
        <translation>Fonte</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Type</source>
        <translation>Tipo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Asset ID</source>
        <translation>Asset</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>e.g. USGS/SRTMGL1_003</source>
        <translation>ex.: USGS/SRTMGL1_003</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Checked as you type, in the background: bands, native CRS and scale, date range.</source>
        <translation>Verificado enquanto você digita, em segundo plano: bandas, SRC e escala nativos, período das datas.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Type an asset ID.</source>
        <translation>Digite o ID de um asset.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Bands</source>
        <translation>Bandas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Bands to extract; none checked means all bands.</source>
        <translation>Bandas a extrair; nenhuma marcada significa todas as bandas.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Dates</source>
        <translation>Datas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>to</source>
        <translation>a</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Filters</source>
        <translation>Filtros</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Property filters, separated by &apos;;&apos;: property op value, op one of eq neq lt lte gt gte.</source>
        <translation>Filtros de propriedades, separados por ';': propriedade op valor, op um de eq neq lt lte gt gte.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Images</source>
        <translation>Imagens</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>whole range</source>
        <translation>inteiro</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source> days</source>
        <translation> dias</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Length of each composite window; &apos;whole range&apos; makes one composite.</source>
        <translation>Duração de cada janela de composição; 'inteiro' faz uma única composição do período.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>&lt;b&gt;This runs Python code.&lt;/b&gt; What you type here is executed inside QGIS with the &lt;code&gt;ee&lt;/code&gt; module, to build an Earth Engine object; only the serialized object is stored in the job. Paste only code you trust. The last line (or a variable named &lt;code&gt;image&lt;/code&gt;) is the result.</source>
        <translation>&lt;b&gt;Isto executa código Python.&lt;/b&gt; O que você digita aqui é executado dentro do QGIS com o módulo &lt;code&gt;ee&lt;/code&gt;, para construir um objeto do Earth Engine; só o objeto serializado é guardado no trabalho. Cole só código em que você confia. A última linha (ou uma variável chamada &lt;code&gt;image&lt;/code&gt;) é o resultado.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Convert to a job expression</source>
        <translation>Converter em expressão do trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Not converted yet.</source>
        <translation>Ainda não convertida.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Region</source>
        <translation>Região</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>From</source>
        <translation>Origem</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Layer</source>
        <translation>Camada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>ID field</source>
        <translation>Campo de ID</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Names each output (one output per feature, chips).</source>
        <translation>Nomeia cada saída (uma saída por feição, recortes).</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Draw on map</source>
        <translation>Desenhar no mapa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Extract</source>
        <translation>Extrair</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Chip size</source>
        <translation>Tamanho do recorte</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Table</source>
        <translation>Tabela</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Output</source>
        <translation>Saída</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>CRS</source>
        <translation>SRC</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Native</source>
        <translation>Nativo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Use the source&apos;s own CRS.</source>
        <translation>Usar o SRC da própria fonte.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Scale</source>
        <translation>Escala</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>native</source>
        <translation>nativa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Pixel size in units of the output CRS; &apos;native&apos; keeps the source&apos;s.</source>
        <translation>Tamanho do pixel em unidades do SRC de saída; 'nativa' mantém o da fonte.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Format</source>
        <translation>Formato</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Folder</source>
        <translation>Pasta</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Job name</source>
        <translation>Nome</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>letters, digits, _ - .</source>
        <translation>letras, dígitos, _ - .</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>file prefix</source>
        <translation>prefixo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Prefix of every output file; the job name when empty.</source>
        <translation>Prefixo de cada arquivo de saída; o nome do trabalho quando vazio.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Method</source>
        <translation>Método</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Bucket / folder</source>
        <translation>Bucket / pasta</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>bucket name, or Drive folder</source>
        <translation>nome do bucket, ou pasta do Drive</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>After</source>
        <translation>Depois</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Load results as layers</source>
        <translation>Carregar resultados no mapa</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Mosaic many outputs (a VRT over them)</source>
        <translation>Mosaicar as saídas (um VRT)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Zonal statistics</source>
        <translation>Estatísticas zonais</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Zones</source>
        <translation>Zonas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Zone ID</source>
        <translation>ID da zona</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Statistics</source>
        <translation>Estatísticas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Engine</source>
        <translation>Motor</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Estimate: —</source>
        <translation>Estimativa: —</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Settings…</source>
        <translation>Configurações…</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Save…</source>
        <translation>Salvar…</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Save this job as a JSON job file (the same file the command line runs)</source>
        <translation>Salvar este trabalho como arquivo de trabalho JSON (o mesmo arquivo que a linha de comando executa)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Open…</source>
        <translation>Abrir…</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Fill the form from a JSON job file</source>
        <translation>Preencher o formulário a partir de um arquivo de trabalho JSON</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Run</source>
        <translation>Executar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Jobs</source>
        <translation>Trabalhos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Double-click a job to open it in the New job tab</source>
        <translation>Clique duas vezes num trabalho para abri-lo na aba Novo trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Job</source>
        <translation>Trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>State</source>
        <translation>Estado</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Progress</source>
        <translation>Progresso</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Stop the job; finished units are kept</source>
        <translation>Interromper o trabalho; as unidades concluídas são mantidas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Resume</source>
        <translation>Retomar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Finish an interrupted or cancelled job; finished units are not fetched again</source>
        <translation>Terminar um trabalho interrompido ou cancelado; as unidades concluídas não são baixadas de novo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Retry failed</source>
        <translation>Repetir falhas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Run the job again: failed units are fetched again, finished ones are kept</source>
        <translation>Executar o trabalho de novo: as unidades com falha são baixadas de novo, as concluídas são mantidas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Open the job&apos;s output folder</source>
        <translation>Abrir a pasta de saída do trabalho</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Load</source>
        <translation>Carregar</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Load the job&apos;s results as layers</source>
        <translation>Carregar os resultados do trabalho como camadas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/dock.ui"/>
        <source>Time left</source>
        <translation>Restante</translation>
    </message>
</context>
<context>
    <name>EEExtractSettings</name>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>EE Extract settings</source>
        <translation>Configurações do EE Extract</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Connect with</source>
        <translation>Conectar com</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>My Earth Engine account (persistent credentials)</source>
        <translation>Minha conta do Earth Engine (credenciais persistentes)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Service account key file</source>
        <translation>Arquivo de chave de conta de serviço</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Sandbox (embedded, offline)</source>
        <translation>Sandbox (embutida, offline)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Custom URL</source>
        <translation>URL personalizada</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Cloud project</source>
        <translation>Projeto Cloud</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Key file</source>
        <translation>Arquivo de chave</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Service-account key (*.json)</source>
        <translation>Chave de conta de serviço (*.json)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Store key in QGIS auth database</source>
        <translation>Guardar chave no banco de autenticação do QGIS</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>No key stored.</source>
        <translation>Nenhuma chave guardada.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Use the high-volume endpoint for pixel requests</source>
        <translation>Usar o endpoint de alto volume para requisições de pixels</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Concurrent requests</source>
        <translation>Requisições simultâneas</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Your project&apos;s quota of concurrent requests (Earth Engine&apos;s default is 40). EE Extract starts below it, grows while requests succeed and settles below the level that draws &quot;too many requests&quot;.</source>
        <translation>A cota de requisições simultâneas do seu projeto (o padrão do Earth Engine é 40). O EE Extract começa abaixo dela, aumenta enquanto as requisições dão certo e se estabiliza abaixo do nível que provoca &quot;too many requests&quot;.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Defaults for new jobs</source>
        <translation>Padrões para novos trabalhos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Output folder</source>
        <translation>Pasta de saída</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Cloud Storage bucket</source>
        <translation>Bucket do Cloud Storage</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Drive folder</source>
        <translation>Pasta do Drive</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Secrets are kept in QGIS&apos;s authentication database, never in settings, logs or project files.</source>
        <translation>Os segredos ficam no banco de dados de autenticação do QGIS, nunca nas configurações, nos logs ou nos arquivos de projeto.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Test connection</source>
        <translation>Testar conexão</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Open a session with these settings and ask Earth Engine a one-line question (in the background)</source>
        <translation>Abrir uma sessão com estas configurações e fazer ao Earth Engine uma pergunta de uma linha (em segundo plano)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Connection</source>
        <translation>Conexão</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Jobs</source>
        <translation>Trabalhos</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>How jobs run</source>
        <translation>Como os trabalhos rodam</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Requests per second</source>
        <translation>Requisições por segundo</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Your project&apos;s quota of requests per second (Earth Engine&apos;s default is 100). EE Extract never sends more.</source>
        <translation>A cota de requisições por segundo do seu projeto (o padrão do Earth Engine é 100). O EE Extract nunca envia mais.</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Run requests on</source>
        <translation>Executar requisições em</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Where a job&apos;s requests and downloads run: in QGIS (threads), or as tasks on a Dask cluster (its workers need this plugin&apos;s packages; QGIS keeps the quota and the job&apos;s record)</source>
        <translation>Onde as requisições e downloads de um trabalho rodam: no QGIS (threads), ou como tarefas num cluster Dask (seus workers precisam dos pacotes deste complemento; o QGIS controla a cota e o registro do trabalho)</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>Dask scheduler</source>
        <translation>Agendador Dask</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>tcp://host:8786, local or local:4</source>
        <translation>tcp://host:8786, local ou local:4</translation>
    </message>
    <message>
        <location filename="../eeextract_plugin/gui/settings_dialog.ui"/>
        <source>A scheduler&apos;s address (tcp://host:8786), or local:N for N worker processes on this computer; empty: Dask&apos;s own setting (DASK_SCHEDULER_ADDRESS), else a local cluster</source>
        <translation>O endereço de um agendador (tcp://host:8786), ou local:N para N processos workers neste computador; vazio: a configuração do próprio Dask (DASK_SCHEDULER_ADDRESS), senão um cluster local</translation>
    </message>
</context>
</TS>
